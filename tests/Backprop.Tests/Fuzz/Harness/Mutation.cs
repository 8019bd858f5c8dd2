using System.Buffers.Binary;
using System.Text;

namespace Backprop.Tests.Fuzz.Harness;

/// <summary>The ways a <see cref="Mutation"/> damages a valid file.</summary>
public enum MutationKind
{
    /// <summary>Flips one bit.</summary>
    FlipBit,
    /// <summary>Writes one interesting byte (0, 0x7F, 0x80, 0xFF, ...).</summary>
    OverwriteByte,
    /// <summary>Writes an interesting 32-bit value (0, -1, 0x7FFFFFFF, 0x80000000, ...), big- or little-endian.</summary>
    OverwriteInt32,
    /// <summary>Writes a ten-byte varint of a huge value (protobuf lengths and counts).</summary>
    OverwriteVarint,
    /// <summary>Cuts the file at a position.</summary>
    Truncate,
    /// <summary>Copies a chunk of the file to another position (repeated blocks, records, chunks).</summary>
    DuplicateChunk,
    /// <summary>Removes a chunk.</summary>
    DeleteChunk,
    /// <summary>Inserts invalid UTF-8 (lone continuation bytes, overlong forms, surrogates).</summary>
    InsertBadUtf8,
    /// <summary>Inserts thousands of opening brackets and braces (deep nesting in text formats).</summary>
    InsertNesting,
    /// <summary>Inserts a number with many thousands of digits.</summary>
    InsertLongNumber,
}

/// <summary>
/// One change to a seed file. <see cref="Position"/> and <see cref="Length"/> are taken modulo the current
/// length, so any mutation applies to any file and a list of them replays the same bytes every time.
/// </summary>
public readonly record struct Mutation(MutationKind Kind, int Position, int Value, int Length)
{
    /// <summary>Bytes every reader should survive in any field: zero, sign bits, all ones, ASCII edges.</summary>
    public static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x20, (byte)'9', (byte)'{', (byte)'"'];

    /// <summary>32-bit values that break size arithmetic: 0, -1, int.MaxValue, int.MinValue, 2^16, 46341 (its square overflows int).</summary>
    public static readonly int[] InterestingInt32s = [0, -1, int.MaxValue, int.MinValue, 0x10000, 46341, 0x40000000, 1000000, 0x7FFF, 255];

    private static readonly byte[][] BadUtf8 =
    [
        [0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFF, 0xFE], [0xE2, 0x82],
    ];

    /// <summary>Applies <paramref name="mutations"/> in order to a copy of <paramref name="seed"/>.</summary>
    public static byte[] ApplyAll(byte[] seed, IEnumerable<Mutation> mutations)
    {
        var bytes = new List<byte>(seed);
        foreach (var m in mutations) m.Apply(bytes);
        return [.. bytes];
    }

    /// <summary>Applies this mutation to <paramref name="bytes"/> in place.</summary>
    public void Apply(List<byte> bytes)
    {
        int n = bytes.Count;
        int at = n == 0 ? 0 : (int)((uint)Position % (uint)n);
        int len = 1 + (int)((uint)Length % (uint)Math.Max(1, Math.Min(n, 4096)));
        switch (Kind)
        {
            case MutationKind.FlipBit when n > 0:
                bytes[at] ^= (byte)(1 << (Value & 7));
                break;
            case MutationKind.OverwriteByte when n > 0:
                bytes[at] = InterestingBytes[(uint)Value % InterestingBytes.Length];
                break;
            case MutationKind.OverwriteInt32:
            {
                Span<byte> v = stackalloc byte[4];
                int value = InterestingInt32s[(uint)Value % InterestingInt32s.Length];
                if ((Value & 0x100) != 0) BinaryPrimitives.WriteInt32LittleEndian(v, value);
                else BinaryPrimitives.WriteInt32BigEndian(v, value);
                Overwrite(bytes, at, v);
                break;
            }
            case MutationKind.OverwriteVarint:
            {
                // 0xFF... with the last byte ending the varint: a 63-bit or 64-bit length, count or tag.
                byte[] v = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)((Value & 1) == 0 ? 0x01 : 0x7F)];
                Overwrite(bytes, at, v.AsSpan(0, 5 + (int)((uint)Value % 6)));
                break;
            }
            case MutationKind.Truncate:
                if (n > 0) bytes.RemoveRange(at, n - at);
                break;
            case MutationKind.DuplicateChunk when n > 0:
            {
                int from = (int)((uint)Value % (uint)n);
                var chunk = bytes.GetRange(from, Math.Min(len, n - from));
                bytes.InsertRange(at, chunk);
                break;
            }
            case MutationKind.DeleteChunk when n > 0:
                bytes.RemoveRange(at, Math.Min(len, n - at));
                break;
            case MutationKind.InsertBadUtf8:
                bytes.InsertRange(at, BadUtf8[(uint)Value % BadUtf8.Length]);
                break;
            case MutationKind.InsertNesting:
            {
                string open = ((uint)Value % 4) switch { 0 => "a {", 1 => "[", 2 => "{\"a\":", _ => "<a>" };
                bytes.InsertRange(at, Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(open, 2000 + len))));
                break;
            }
            case MutationKind.InsertLongNumber:
                bytes.InsertRange(at, Encoding.ASCII.GetBytes((Value & 1) == 0 ? new string('9', 20000 + len) : "1e" + new string('9', 400)));
                break;
        }
    }

    private static void Overwrite(List<byte> bytes, int at, ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            if (at + i < bytes.Count) bytes[at + i] = value[i];
            else bytes.Add(value[i]);
        }
    }

    public override string ToString() => $"{Kind}@{Position}:{Value}/{Length}";
}
