using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Tests.Data;
using Google.Protobuf;

namespace Backprop.Tests.Caffe;

/// <summary>Datum records whose shape claims more than they hold are refused before anything is allocated for them.</summary>
public class DatumRecordsAllocationTests
{
    private const string Where = "Layer 'data' (type Data)";

    /// <summary>Writes <paramref name="datums"/> under keys 00000000, 00000001, ... into a fresh LMDB.</summary>
    private static string WriteLmdb(ScratchDirectory dir, params Datum[] datums)
    {
        string path = dir.File("db");
        Directory.CreateDirectory(path);
        using (var writer = new LmdbWriter(Path.Combine(path, CaffeLmdb.DataFile)))
        {
            for (int i = 0; i < datums.Length; i++)
                writer.Add(System.Text.Encoding.ASCII.GetBytes(MnistToLmdb.Key(i)), datums[i].ToByteArray());
            writer.Complete();
        }
        return path;
    }

    [Fact]
    public void TwoTinyRecordsClaimingAGigabyteEachAreRefusedCheaply()
    {
        using var dir = new ScratchDirectory();
        var claim = new Datum { Channels = 1, Height = 1_000_000, Width = 1000, Label = 1 };
        Assert.True(claim.CalculateSize() <= 12);
        string db = WriteLmdb(dir, claim, claim);
        long size = new FileInfo(Path.Combine(db, "data.mdb")).Length;

        var (e, bytes) = ThreadAllocations.Throws<CaffeNetException>(() => DatumRecords.Load(db, Where));

        Assert.Contains(db, e.Message);
        Assert.Contains("record 0 (key '00000000') has shape 1x1000000x1000 (1000000000 values) but holds 0 bytes and 0 floats", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(size), $"allocated {bytes} bytes for a {size}-byte database");
    }

    [Fact]
    public void ShapeWhoseProductOverflowsAnIntIsAClearError()
    {
        var datum = new Datum { Channels = 1, Height = 46341, Width = 46341 };
        var e = Assert.Throws<CaffeNetException>(() => DatumRecords.FromDatums([("k0", datum)], 1, Where, storedBytes: 100));
        Assert.Contains("1x46341x46341 (2147488281 values)", e.Message);
    }

    [Fact]
    public void CountClaimingMoreThanTheFileHoldsIsRefusedBeforeAllocating()
    {
        // A valid 1x28x28 record, but a count (from the database's header) of 2 million: 1.5 GB for a 1 MB file.
        var datum = new Datum { Channels = 1, Height = 28, Width = 28, Data = ByteString.CopyFrom(new byte[784]) };
        var (e, bytes) = ThreadAllocations.Throws<CaffeNetException>(
            () => DatumRecords.FromDatums(Enumerable.Repeat(("k", datum), 3), 2_000_000, Where, storedBytes: 1 << 20));
        Assert.Contains("2000000 records of 1x28x28 bytes, 1568000000 bytes, more than its 1048576-byte file can hold", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(1 << 20), $"allocated {bytes} bytes");
    }

    [Fact]
    public void FloatRecordsCountFourBytesPerValue()
    {
        var datum = new Datum { Channels = 1, Height = 2, Width = 2 };
        datum.FloatData.Add([1f, 2f, 3f, 4f]);
        var e = Assert.Throws<CaffeNetException>(() => DatumRecords.FromDatums([("k0", datum), ("k1", datum)], 2, Where, storedBytes: 20));
        Assert.Contains("2 records of 1x2x2 floats, 32 bytes, more than its 20-byte file can hold", e.Message);

        var records = DatumRecords.FromDatums([("k0", datum), ("k1", datum)], 2, Where, storedBytes: 64);
        var pixels = new float[4];
        records.Read(1, pixels);
        Assert.Equal([1f, 2f, 3f, 4f], pixels);
    }

    [Fact]
    public void EncodedFirstRecordIsRefusedBeforeAllocating()
    {
        var datum = new Datum { Channels = 3, Height = 20000, Width = 20000, Encoded = true, Data = ByteString.CopyFrom(new byte[10]) };
        var (e, bytes) = ThreadAllocations.Throws<CaffeNetException>(() => DatumRecords.FromDatums([("k0", datum)], 1, Where, storedBytes: 1000));
        Assert.Contains("record 0 (key 'k0') is an encoded image", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(1000), $"allocated {bytes} bytes");
    }

    [Fact]
    public void LaterRecordWithTooFewBytesNamesItsKey()
    {
        var good = new Datum { Channels = 1, Height = 2, Width = 2, Data = ByteString.CopyFrom(new byte[4]) };
        var bad = new Datum { Channels = 1, Height = 2, Width = 2, Data = ByteString.CopyFrom(new byte[3]) };
        var e = Assert.Throws<CaffeNetException>(() => DatumRecords.FromDatums([("00000000", good), ("00000001", bad)], 2, Where, storedBytes: 100));
        Assert.Contains("record 1 (key '00000001') has 3 bytes for 4 pixels", e.Message);
    }
}
