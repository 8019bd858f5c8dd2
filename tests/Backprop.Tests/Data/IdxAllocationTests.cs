using System.Buffers.Binary;
using Backprop.Data;

namespace Backprop.Tests.Data;

/// <summary>Hostile IDX files: nothing is allocated for data the file does not hold.</summary>
public class IdxAllocationTests
{
    private const int OneGiB = 1 << 30;

    [Fact]
    public void TinyGzipClaimingAGigabyteIsRefusedCheaply()
    {
        using var dir = new ScratchDirectory();
        // The header alone (16 bytes) claims 16384 x 16384 x 4 unsigned bytes = 1 GiB; gzipped it is ~36 bytes.
        string path = dir.Write("claims-1gib.gz", IdxBytes.Gzip(IdxBytes.Build(0x08, [16384, 16384, 4], [])));
        long size = new FileInfo(path).Length;

        var (e, bytes) = ThreadAllocations.Throws<InvalidDataException>(() => IdxFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("needs 1073741824 data bytes but only 0 follow", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(size), $"allocated {bytes} bytes for a {size}-byte file");
        Assert.Throws<InvalidDataException>(() => IdxFile.ReadHeader(path));
    }

    [Fact]
    public void GzipBombWithForgedTrailerCostsOnlyWhatItInflates()
    {
        using var dir = new ScratchDirectory();
        // Claims 1 GiB, inflates to 4 MiB; the trailer is forged to match the claim, so only reading finds out.
        const int Inflated = 4 << 20;
        byte[] gz = IdxBytes.Gzip(IdxBytes.Build(0x08, [16384, 16384, 4], new byte[Inflated]));
        BinaryPrimitives.WriteUInt32LittleEndian(gz.AsSpan(gz.Length - 4), OneGiB + 16);
        string path = dir.Write("bomb.gz", gz);

        var (e, bytes) = ThreadAllocations.Throws<InvalidDataException>(() => IdxFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(Inflated), $"allocated {bytes} bytes for a stream that inflates to {Inflated}");
    }

    [Fact]
    public void GzipThatInflatesPastTheDeclaredSizeIsCutOff()
    {
        using var dir = new ScratchDirectory();
        // Declares 1 MiB, inflates to 16 MiB, trailer forged to the declared size.
        const int Declared = 1 << 20;
        byte[] gz = IdxBytes.Gzip(IdxBytes.Build(0x08, [1024, 1024], new byte[16 << 20]));
        BinaryPrimitives.WriteUInt32LittleEndian(gz.AsSpan(gz.Length - 4), Declared + 12);
        string path = dir.Write("longer.gz", gz);

        var (e, bytes) = ThreadAllocations.Throws<InvalidDataException>(() => IdxFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("longer than the 1048576 bytes", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(Declared), $"allocated {bytes} bytes for {Declared} declared");
    }

    [Fact]
    public void TruncatedPlainFileIsRefusedBeforeAllocating()
    {
        using var dir = new ScratchDirectory();
        string path = dir.Write("claims-1gib", IdxBytes.Build(0x08, [16384, 16384, 4], [1, 2, 3]));

        var (e, bytes) = ThreadAllocations.Throws<InvalidDataException>(() => IdxFile.Read(path));

        Assert.Contains("truncated", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(19), $"allocated {bytes} bytes for a 19-byte file");
    }

    [Fact]
    public void LegitimateGzipCostsAtMostTwiceItsData()
    {
        using var dir = new ScratchDirectory();
        byte[] plain = IdxBytes.Images(3000); // 2.35 MB of data: several chunks
        string path = dir.Write("images.gz", IdxBytes.Gzip(plain));

        IdxData? data = null;
        long bytes = ThreadAllocations.Of(() => data = IdxFile.Read(path));

        Assert.Equal(plain.AsSpan(16).ToArray(), data!.Bytes);
        Assert.True(bytes < ThreadAllocations.Bound(plain.Length), $"allocated {bytes} bytes for {plain.Length} bytes of data");
    }
}
