using System.Buffers.Binary;
using CsCheck;

namespace Backprop.Tests.Caffe.Lmdb;

/// <summary>Property: a randomly damaged database reads as before or fails with an InvalidDataException naming the file, never anything else.</summary>
public class LmdbFuzzTests
{
    private enum Damage { Truncate, FlipByte, WriteU16, WriteU32, WriteU64 }

    [Fact]
    public void MutatedDatabasesNeverFailUncleanly()
    {
        int length = LmdbDamage.Bytes().Length;
        // Half the writes land in page headers and node tables (the first 64 bytes of a page), where damage matters most.
        var position = Gen.Frequency(
            (1, Gen.Int[0, length - 1]),
            (1, Gen.Select(Gen.Int[0, length / LmdbDamage.PageSize - 1], Gen.Int[0, 63], (page, at) => page * LmdbDamage.PageSize + at)));
        var mutation = Gen.Select(Gen.Enum<Damage>(), position, Gen.ULong, (kind, at, value) => (kind, at, value));
        using var dir = new Backprop.Tests.Data.ScratchDirectory();
        int refused = 0;
        mutation.Array[400].Sample(mutations =>
        {
            foreach (var (kind, at, value) in mutations)
            {
                var bytes = LmdbDamage.Bytes();
                if (kind == Damage.Truncate) bytes = bytes[..at];
                else if (kind == Damage.FlipByte) bytes[at] ^= (byte)(value | 1);
                else if (kind == Damage.WriteU16 && at + 2 <= length) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), (ushort)value);
                else if (kind == Damage.WriteU32 && at + 4 <= length) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)value);
                else if (kind == Damage.WriteU64 && at + 8 <= length) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
                if (LmdbDamage.Read(dir, bytes) is not null) refused++;
            }
        }, seed: "0N0XIzNsQ0O2", iter: 1, threads: 1);
        Assert.True(refused > 100, $"only {refused} of 400 damaged files were refused");
    }
}
