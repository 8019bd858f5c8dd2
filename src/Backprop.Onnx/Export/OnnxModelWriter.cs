using System.Runtime.InteropServices;
using Backprop.Onnx.Proto;
using Google.Protobuf;

namespace Backprop.Onnx;

/// <summary>An initializer waiting to be written: its TensorProto without data, and where the data is.</summary>
internal sealed record OnnxInitializer(TensorProto Header, Tensor? Floats, long[]? Int64s)
{
    public ReadOnlySpan<byte> Bytes => Floats is not null
        ? MemoryMarshal.AsBytes((ReadOnlySpan<float>)Floats.AsSpan())
        : MemoryMarshal.AsBytes((ReadOnlySpan<long>)Int64s);
}

/// <summary>
/// Writes a ModelProto whose graph's initializers carry their raw_data straight from tensor storage. Protobuf lets a
/// message's fields come in any order and repeated fields be appended, so the model is written as: the model's own
/// fields, then the graph field (tag 7) whose length is computed up front, holding the graph's own fields and then
/// each initializer (tag 5) as its header followed by raw_data (tag 9) copied from the tensor's memory. No buffer
/// the size of the weights is ever made.
/// </summary>
internal static class OnnxModelWriter
{
    private const int GraphField = 7, InitializerField = 5, RawDataField = 9;

    public static void Write(Stream stream, ModelProto model, GraphProto graph, IReadOnlyList<OnnxInitializer> initializers)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this machine is not.");
        long graphSize = graph.CalculateSize();
        var sizes = new long[initializers.Count];
        for (int i = 0; i < initializers.Count; i++)
        {
            long data = initializers[i].Bytes.Length;
            sizes[i] = initializers[i].Header.CalculateSize() + FieldOverhead(data) + data;
            graphSize += FieldOverhead(sizes[i]) + sizes[i];
        }
        // Protobuf messages (and ONNX readers) stop at 2 GB; larger models need ONNX's external data files.
        if (graphSize + model.CalculateSize() + FieldOverhead(graphSize) > int.MaxValue)
            throw new OnnxExportException($"The model's ONNX graph would be {graphSize >> 20} MB: files over 2 GB (external data) are not supported.");

        model.WriteTo(stream);
        WriteLengthPrefix(stream, GraphField, graphSize);
        graph.WriteTo(stream);
        for (int i = 0; i < initializers.Count; i++)
        {
            WriteLengthPrefix(stream, InitializerField, sizes[i]);
            initializers[i].Header.WriteTo(stream);
            var bytes = initializers[i].Bytes;
            WriteLengthPrefix(stream, RawDataField, bytes.Length);
            stream.Write(bytes);
        }
        stream.Flush();
    }

    // A length-delimited field's tag (one byte for fields below 16) and its length as a varint.
    private static long FieldOverhead(long length) => 1 + CodedOutputStream.ComputeLengthSize((int)Math.Min(length, int.MaxValue));

    private static void WriteLengthPrefix(Stream stream, int field, long length)
    {
        Span<byte> buffer = stackalloc byte[11];
        buffer[0] = (byte)((field << 3) | 2);
        int n = 1;
        ulong v = (ulong)length;
        while (v >= 0x80)
        {
            buffer[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        buffer[n++] = (byte)v;
        stream.Write(buffer[..n]);
    }
}
