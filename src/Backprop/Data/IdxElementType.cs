namespace Backprop.Data;

/// <summary>The element types of an IDX file, numbered by the type byte of its magic number.</summary>
public enum IdxElementType : byte
{
    /// <summary>0x08: unsigned byte (MNIST images and labels).</summary>
    UnsignedByte = 0x08,

    /// <summary>0x09: signed byte.</summary>
    SignedByte = 0x09,

    /// <summary>0x0B: 16-bit signed integer, big-endian.</summary>
    Int16 = 0x0B,

    /// <summary>0x0C: 32-bit signed integer, big-endian.</summary>
    Int32 = 0x0C,

    /// <summary>0x0D: 32-bit float, big-endian.</summary>
    Float32 = 0x0D,

    /// <summary>0x0E: 64-bit float, big-endian.</summary>
    Float64 = 0x0E,
}

internal static class IdxElementTypes
{
    public static bool IsKnown(byte type) => type is 0x08 or 0x09 or 0x0B or 0x0C or 0x0D or 0x0E;

    public static int Size(this IdxElementType type) => type switch
    {
        IdxElementType.UnsignedByte or IdxElementType.SignedByte => 1,
        IdxElementType.Int16 => 2,
        IdxElementType.Int32 or IdxElementType.Float32 => 4,
        IdxElementType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an IDX element type"),
    };

    public static IO.ElementType ToElementType(this IdxElementType type) => type switch
    {
        IdxElementType.UnsignedByte => IO.ElementType.UInt8,
        IdxElementType.SignedByte => IO.ElementType.Int8,
        IdxElementType.Int16 => IO.ElementType.Int16,
        IdxElementType.Int32 => IO.ElementType.Int32,
        IdxElementType.Float32 => IO.ElementType.Float32,
        IdxElementType.Float64 => IO.ElementType.Float64,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an IDX element type"),
    };
}
