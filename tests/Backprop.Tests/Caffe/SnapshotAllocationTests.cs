using Backprop.Caffe;
using Backprop.Tests.Data;

namespace Backprop.Tests.Caffe;

/// <summary>
/// Binary protobuf files whose length prefixes claim a gigabyte: Google.Protobuf reads a stream's packed floats and
/// bytes in pieces as they arrive, so a truncated file costs what it holds. These tests hold that promise.
/// </summary>
public class SnapshotAllocationTests
{
    private static void Varint(List<byte> bytes, ulong value)
    {
        while (value >= 0x80) { bytes.Add((byte)(value | 0x80)); value >>= 7; }
        bytes.Add((byte)value);
    }

    /// <summary>NetParameter { layer (100) { blobs (7) { field (packed or bytes) of 1 GiB, only 8 bytes present } } }.</summary>
    private static byte[] ClaimingAGigabyte(int blobField)
    {
        const ulong Claim = 1UL << 30;
        var bytes = new List<byte>();
        Varint(bytes, 100 << 3 | 2);
        Varint(bytes, Claim + 20);
        Varint(bytes, 7 << 3 | 2);
        Varint(bytes, Claim + 10);
        Varint(bytes, (ulong)blobField << 3 | 2);
        Varint(bytes, Claim);
        bytes.AddRange(new byte[8]);
        return [.. bytes];
    }

    [Theory]
    [InlineData(5)]   // data: packed float
    [InlineData(8)]   // double_data: packed double
    public void TruncatedPackedBlobClaimingAGigabyteIsRefusedCheaply(int field)
    {
        using var dir = new ScratchDirectory();
        byte[] file = ClaimingAGigabyte(field);
        string path = dir.Write("claims.caffemodel", file);

        var (e, bytes) = ThreadAllocations.Throws<CaffeNetException>(() => Snapshots.ReadModel(path));

        Assert.Contains(path, e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(file.Length), $"allocated {bytes} bytes for a {file.Length}-byte file");
    }

    [Fact]
    public void TruncatedNameClaimingAGigabyteIsRefusedCheaply()
    {
        using var dir = new ScratchDirectory();
        var bytes = new List<byte>();
        Varint(bytes, 1 << 3 | 2);   // NetParameter.name
        Varint(bytes, 1UL << 30);
        bytes.AddRange("lenet"u8.ToArray());
        string path = dir.Write("name.caffemodel", [.. bytes]);

        var (e, allocated) = ThreadAllocations.Throws<CaffeNetException>(() => Snapshots.ReadModel(path));

        Assert.Contains(path, e.Message);
        Assert.True(allocated < ThreadAllocations.Bound(bytes.Count), $"allocated {allocated} bytes");
    }
}
