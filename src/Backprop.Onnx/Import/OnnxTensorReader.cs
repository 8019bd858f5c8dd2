using System.Buffers.Binary;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx.Import;

/// <summary>
/// One ONNX tensor read into memory: its dimensions and either float values (FLOAT, DOUBLE) or integer values
/// (INT64, INT32). Integer tensors carry shapes and pads; float tensors become parameters or constants.
/// </summary>
internal sealed record OnnxTensorData(string Name, int[] Dims, float[]? Floats, long[]? Longs)
{
    /// <summary>The values as a float tensor (integers converted), for integer constants used as data.</summary>
    public Tensor ToTensor() => Tensor.FromArray(Floats ?? [.. Longs!.Select(v => (float)v)], Dims);
}

/// <summary>
/// Reads <see cref="TensorProto"/>s with every size checked before anything is allocated: dimensions must be
/// non-negative, their product (computed without overflow) must stay under <see cref="MaxElements"/>, and it must
/// agree with the number of values actually stored (raw_data bytes or the typed field).
/// </summary>
internal static class OnnxTensorReader
{
    /// <summary>The most elements one tensor may hold (2^28 floats = 1 GiB); a larger declaration is refused unread.</summary>
    public const long MaxElements = 1L << 28;

    /// <summary>Reads <paramref name="tensor"/>; <paramref name="path"/> and <paramref name="where"/> only name it in errors.</summary>
    public static OnnxTensorData Read(TensorProto tensor, string path, string where)
    {
        string label = $"{path}: {where} '{tensor.Name}'";
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
            throw new InvalidDataException($"{label} keeps its data in an external file; external data is not supported (save the model with all tensors inside the .onnx file).");
        if (tensor.Segment is not null)
            throw new InvalidDataException($"{label} is a segment of a larger tensor; segmented tensors are not supported.");
        long count = ElementCount(tensor.Dims, label);
        var dims = tensor.Dims.Select(d => (int)d).ToArray();
        var type = (TensorProto.Types.DataType)tensor.DataType;
        bool raw = tensor.HasRawData;
        switch (type)
        {
            case TensorProto.Types.DataType.Float:
            {
                CheckCount(label, count, raw ? tensor.RawData.Length : tensor.FloatData.Count, raw ? 4 : 1, raw ? "raw_data bytes" : "float_data values");
                var values = new float[count];
                if (raw)
                    for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(tensor.RawData.Span.Slice(4 * i, 4));
                else tensor.FloatData.CopyTo(values, 0);
                return new(tensor.Name, dims, values, null);
            }
            case TensorProto.Types.DataType.Double:
            {
                CheckCount(label, count, raw ? tensor.RawData.Length : tensor.DoubleData.Count, raw ? 8 : 1, raw ? "raw_data bytes" : "double_data values");
                var values = new float[count];
                for (int i = 0; i < values.Length; i++)
                    values[i] = (float)(raw ? BinaryPrimitives.ReadDoubleLittleEndian(tensor.RawData.Span.Slice(8 * i, 8)) : tensor.DoubleData[i]);
                return new(tensor.Name, dims, values, null);
            }
            case TensorProto.Types.DataType.Int64:
            {
                CheckCount(label, count, raw ? tensor.RawData.Length : tensor.Int64Data.Count, raw ? 8 : 1, raw ? "raw_data bytes" : "int64_data values");
                var values = new long[count];
                for (int i = 0; i < values.Length; i++)
                    values[i] = raw ? BinaryPrimitives.ReadInt64LittleEndian(tensor.RawData.Span.Slice(8 * i, 8)) : tensor.Int64Data[i];
                return new(tensor.Name, dims, null, values);
            }
            case TensorProto.Types.DataType.Int32:
            {
                CheckCount(label, count, raw ? tensor.RawData.Length : tensor.Int32Data.Count, raw ? 4 : 1, raw ? "raw_data bytes" : "int32_data values");
                var values = new long[count];
                for (int i = 0; i < values.Length; i++)
                    values[i] = raw ? BinaryPrimitives.ReadInt32LittleEndian(tensor.RawData.Span.Slice(4 * i, 4)) : tensor.Int32Data[i];
                return new(tensor.Name, dims, null, values);
            }
            default:
                throw new InvalidDataException($"{label} has element type {type}; only FLOAT, DOUBLE, INT64 and INT32 tensors can be imported.");
        }
    }

    /// <summary>The product of <paramref name="dims"/>, refusing negative dimensions and products above the limit without overflowing.</summary>
    public static long ElementCount(IReadOnlyList<long> dims, string label)
    {
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw new InvalidDataException($"{label} declares a negative dimension ({d}) in shape [{string.Join(", ", dims)}].");
            if (d > int.MaxValue || (d != 0 && count > MaxElements / d))
                throw new InvalidDataException($"{label} declares shape [{string.Join(", ", dims)}], more than the {MaxElements} elements a tensor may hold; the file is corrupt or the model too large.");
            count *= d;
        }
        return count;
    }

    private static void CheckCount(string label, long expected, int stored, int unit, string what)
    {
        if (stored != expected * unit)
            throw new InvalidDataException($"{label}: its shape holds {expected} elements ({expected * unit} {what}), but the file stores {stored} {what}.");
    }
}
