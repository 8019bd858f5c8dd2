using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Backprop.IO;

/// <summary>The element types tensor files store, all read into float32.</summary>
internal enum ElementType
{
    Bool,
    UInt8,
    Int8,
    UInt16,
    Int16,
    UInt32,
    Int32,
    UInt64,
    Int64,
    Float16,
    BFloat16,
    Float32,
    Float64,
}

/// <summary>Sizes of element types and their conversion from stored bytes to float32.</summary>
internal static class ElementTypes
{
    /// <summary>Floats per direct read or write: 1 GiB of bytes, below a span's int length limit.</summary>
    private const int MaxDirectElements = 1 << 28;

    /// <summary>Bytes per element.</summary>
    public static int Size(this ElementType type) => type switch
    {
        ElementType.Bool or ElementType.UInt8 or ElementType.Int8 => 1,
        ElementType.UInt16 or ElementType.Int16 or ElementType.Float16 or ElementType.BFloat16 => 2,
        ElementType.UInt32 or ElementType.Int32 or ElementType.Float32 => 4,
        ElementType.UInt64 or ElementType.Int64 or ElementType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>
    /// Converts <paramref name="source"/> (whole elements of <paramref name="type"/>, in the given byte order)
    /// to float32 in <paramref name="destination"/>: integers and float64 round to the nearest float32,
    /// bool is 0 or 1 (any non-zero byte is true).
    /// </summary>
    public static void Decode(ElementType type, bool bigEndian, ReadOnlySpan<byte> source, Span<float> destination)
    {
        int size = type.Size();
        if (source.Length != destination.Length * size)
            throw new ArgumentException($"{source.Length} bytes do not hold {destination.Length} elements of {type}.");
        if (type == ElementType.Float32 && bigEndian == !BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
            return;
        }
        for (int i = 0; i < destination.Length; i++)
        {
            var b = source.Slice(i * size, size);
            destination[i] = type switch
            {
                ElementType.Bool => b[0] != 0 ? 1f : 0f,
                ElementType.UInt8 => b[0],
                ElementType.Int8 => (sbyte)b[0],
                ElementType.UInt16 => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b),
                ElementType.Int16 => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b),
                ElementType.UInt32 => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b),
                ElementType.Int32 => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b),
                ElementType.UInt64 => bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b),
                ElementType.Int64 => bigEndian ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b),
                ElementType.Float16 => (float)(bigEndian ? BinaryPrimitives.ReadHalfBigEndian(b) : BinaryPrimitives.ReadHalfLittleEndian(b)),
                ElementType.BFloat16 => BitConverter.Int32BitsToSingle(
                    (bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b)) << 16),
                ElementType.Float32 => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b),
                ElementType.Float64 => (float)(bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b)),
                _ => throw new ArgumentOutOfRangeException(nameof(type)),
            };
        }
    }

    /// <summary>
    /// Reads <paramref name="destination"/>.Length elements of <paramref name="type"/> from
    /// <paramref name="stream"/> in chunks (never a buffer sized by the caller's count), or throws
    /// <see cref="EndOfStreamException"/> when the stream ends first.
    /// </summary>
    public static void ReadInto(Stream stream, ElementType type, bool bigEndian, Span<float> destination)
    {
        if (type == ElementType.Float32 && bigEndian == !BitConverter.IsLittleEndian)
        {
            // Straight into the floats, in slices small enough for a byte span's int length.
            for (int done = 0; done < destination.Length;)
            {
                int n = Math.Min(MaxDirectElements, destination.Length - done);
                stream.ReadExactly(MemoryMarshal.AsBytes(destination.Slice(done, n)));
                done += n;
            }
            return;
        }
        int size = type.Size();
        var buffer = new byte[64 * 1024];
        int perChunk = buffer.Length / size;
        for (int done = 0; done < destination.Length;)
        {
            int n = Math.Min(perChunk, destination.Length - done);
            stream.ReadExactly(buffer, 0, n * size);
            Decode(type, bigEndian, buffer.AsSpan(0, n * size), destination.Slice(done, n));
            done += n;
        }
    }

    /// <summary>Writes float32 values little-endian.</summary>
    public static void WriteFloat32LittleEndian(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            for (int done = 0; done < values.Length;)
            {
                int n = Math.Min(MaxDirectElements, values.Length - done);
                stream.Write(MemoryMarshal.AsBytes(values.Slice(done, n)));
                done += n;
            }
            return;
        }
        var buffer = new byte[64 * 1024];
        for (int done = 0; done < values.Length;)
        {
            int n = Math.Min(buffer.Length / 4, values.Length - done);
            for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * 4), values[done + i]);
            stream.Write(buffer, 0, n * 4);
            done += n;
        }
    }

    /// <summary>
    /// The element count of <paramref name="dims"/>, or null when a dimension is negative or above
    /// <see cref="int.MaxValue"/>, or the running product exceeds what an array can hold (the same rule as
    /// <see cref="Shape"/>). Never overflows.
    /// </summary>
    public static long? CheckedElementCount(IReadOnlyList<long> dims)
    {
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0 || d > int.MaxValue) return null;
            count *= d; // both factors are at most 2^31, so this cannot overflow
            if (count > Array.MaxLength) return null;
        }
        return count;
    }
}
