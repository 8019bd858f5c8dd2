using System.Buffers.Binary;
using Backprop.IO;

namespace Backprop.Data;

/// <summary>
/// The content of an IDX file: the element type, the shape, and the data as stored (big-endian for the
/// multi-byte types). Convert with <see cref="AsFloats"/> or <see cref="AsLabels"/>.
/// </summary>
public sealed class IdxData
{
    private readonly byte[] raw;

    internal IdxData(IdxElementType type, int[] shape, byte[] raw)
    {
        Type = type;
        Shape = shape;
        this.raw = raw;
    }

    /// <summary>The element type the file declares.</summary>
    public IdxElementType Type { get; }

    /// <summary>The dimensions, outermost first (e.g. <c>(60000, 28, 28)</c> for MNIST training images).</summary>
    public int[] Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length => raw.Length / Type.Size();

    /// <summary>The elements when the type is <see cref="IdxElementType.UnsignedByte"/> (not a copy); otherwise null.</summary>
    public byte[]? Bytes => Type == IdxElementType.UnsignedByte ? raw : null;

    /// <summary>The elements converted to float32, row-major (bytes keep their 0..255 values; no scaling).</summary>
    public float[] AsFloats()
    {
        var values = new float[Length];
        ElementTypes.Decode(Type.ToElementType(), bigEndian: true, raw, values);
        return values;
    }

    /// <summary>The elements as integers; only for the integer types (a label file is unsigned bytes).</summary>
    public int[] AsLabels()
    {
        var labels = new int[Length];
        switch (Type)
        {
            case IdxElementType.UnsignedByte:
                for (int i = 0; i < labels.Length; i++) labels[i] = raw[i];
                break;
            case IdxElementType.SignedByte:
                for (int i = 0; i < labels.Length; i++) labels[i] = (sbyte)raw[i];
                break;
            case IdxElementType.Int16:
                for (int i = 0; i < labels.Length; i++) labels[i] = BinaryPrimitives.ReadInt16BigEndian(raw.AsSpan(2 * i));
                break;
            case IdxElementType.Int32:
                for (int i = 0; i < labels.Length; i++) labels[i] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 * i));
                break;
            default:
                throw new InvalidOperationException($"IDX data of type {Type} holds no integer labels; use AsFloats().");
        }
        return labels;
    }
}
