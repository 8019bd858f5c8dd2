using Backprop.Data;

namespace Backprop.Tests.Data;

public class IdxFileTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsUnsignedBytesPlainAndGzipped(bool gzip)
    {
        using var dir = new ScratchDirectory();
        byte[] bytes = IdxBytes.Build(0x08, [2, 3], [0, 1, 2, 253, 254, 255]);
        string path = dir.Write("x-idx2-ubyte", gzip ? IdxBytes.Gzip(bytes) : bytes);

        var data = IdxFile.Read(path);

        Assert.Equal(IdxElementType.UnsignedByte, data.Type);
        Assert.Equal([2, 3], data.Shape);
        Assert.Equal(6, data.Length);
        Assert.Equal(new byte[] { 0, 1, 2, 253, 254, 255 }, data.Bytes);
        Assert.Equal([0f, 1f, 2f, 253f, 254f, 255f], data.AsFloats());
        Assert.Equal([0, 1, 2, 253, 254, 255], data.AsLabels());
        Assert.Equal(gzip, IdxFile.IsGzipFile(path));
    }

    [Fact]
    public void RecognisesGzipByContentNotByName()
    {
        using var dir = new ScratchDirectory();
        byte[] bytes = IdxBytes.Labels(7, 2, 1);
        string plainNamedGz = dir.Write("labels.gz", bytes);
        string gzNamedPlain = dir.Write("labels", IdxBytes.Gzip(bytes));

        Assert.Equal([7, 2, 1], IdxFile.Read(plainNamedGz).AsLabels());
        Assert.Equal([7, 2, 1], IdxFile.Read(gzNamedPlain).AsLabels());
    }

    [Fact]
    public void DecodesEveryTypeBigEndian()
    {
        using var dir = new ScratchDirectory();
        // sbyte: -1, 5
        var sbytes = IdxFile.Read(dir.Write("s", IdxBytes.Build(0x09, [2], [0xFF, 0x05])));
        Assert.Null(sbytes.Bytes);
        Assert.Equal([-1f, 5f], sbytes.AsFloats());
        Assert.Equal([-1, 5], sbytes.AsLabels());
        // int16: -2 = ff fe, 258 = 01 02
        var shorts = IdxFile.Read(dir.Write("h", IdxBytes.Build(0x0B, [2], [0xFF, 0xFE, 0x01, 0x02])));
        Assert.Equal([-2f, 258f], shorts.AsFloats());
        Assert.Equal([-2, 258], shorts.AsLabels());
        // int32: 16909060 = 01 02 03 04, -1
        var ints = IdxFile.Read(dir.Write("i", IdxBytes.Build(0x0C, [1, 2], [1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF])));
        Assert.Equal([16909060, -1], ints.AsLabels());
        // float32: 1.5 = 3f c0 00 00, -2 = c0 00 00 00
        var floats = IdxFile.Read(dir.Write("f", IdxBytes.Build(0x0D, [2], [0x3F, 0xC0, 0, 0, 0xC0, 0, 0, 0])));
        Assert.Equal([1.5f, -2f], floats.AsFloats());
        Assert.Throws<InvalidOperationException>(() => floats.AsLabels());
        // float64: 0.25 = 3f d0 00.., rank 4
        var doubles = IdxFile.Read(dir.Write("d", IdxBytes.Build(0x0E, [1, 1, 1, 1], [0x3F, 0xD0, 0, 0, 0, 0, 0, 0])));
        Assert.Equal([1, 1, 1, 1], doubles.Shape);
        Assert.Equal([0.25f], doubles.AsFloats());
    }

    [Fact]
    public void ReadHeaderChecksWithoutReadingData()
    {
        using var dir = new ScratchDirectory();
        string path = dir.Write("imgs", IdxBytes.Images(3));
        var header = IdxFile.ReadHeader(path);
        Assert.Equal(IdxElementType.UnsignedByte, header.Type);
        Assert.Equal([3, 28, 28], header.Shape);
        Assert.Equal(3 * 28 * 28, header.DataLength);
        Assert.Equal(16, header.Length);
    }

    public static TheoryData<string, byte[], string> CorruptFiles() => new()
    {
        { "bad magic", [0x01, 0x00, 0x08, 0x01, 0, 0, 0, 1, 9], "magic number starts with 01 00" },
        { "text file", "hello world\n"u8.ToArray(), "magic number starts with 68 65" },
        { "unknown type", IdxBytes.Build(0x0A, [1], [0]), "element type byte is 0x0a" },
        { "zero dims", [0, 0, 0x08, 0], "0 dimensions" },
        { "five dims", IdxBytes.Build(0x08, [1, 1, 1, 1, 1], [0]), "5 dimensions" },
        { "zero dim", IdxBytes.Build(0x08, [2, 0], []), "dimension 1 is 0" },
        { "negative dim", IdxBytes.Build(0x08, [-5], []), "dimension 0 is -5" },
        { "dims too large", IdxBytes.Build(0x08, [65536, 65536], [1, 2, 3]), "more than the 1073741824 bytes allowed" },
        { "float dims too large", IdxBytes.Build(0x0E, [1 << 27, 2], []), "more than the 1073741824 bytes allowed" },
        { "empty", [], "ends after 0 of the bytes of the 4-byte magic number" },
        { "truncated magic", [0, 0, 8], "ends after 3 of the bytes of the 4-byte magic number" },
        { "truncated dims", [0, 0, 8, 3, 0, 0, 0, 2, 0, 0], "ends after 6 of the bytes of the 3 dimensions" },
        { "truncated data", IdxBytes.Build(0x08, [2, 3], [1, 2, 3, 4]), "needs 6 data bytes but only 4 follow" },
        { "truncated int32 data", IdxBytes.Build(0x0C, [2], [0, 0, 0, 1, 0, 0]), "needs 8 data bytes but only 6 follow" },
        { "trailing bytes", IdxBytes.Build(0x08, [2], [1, 2, 3]), "trailing bytes" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void CorruptPlainFileGivesClearError(string name, byte[] bytes, string expected)
    {
        using var dir = new ScratchDirectory();
        string path = dir.Write(name.Replace(' ', '-'), bytes);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a valid IDX file", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void CorruptGzippedFileGivesClearError(string name, byte[] bytes, string expected)
    {
        using var dir = new ScratchDirectory();
        string path = dir.Write(name.Replace(' ', '-') + ".gz", IdxBytes.Gzip(bytes));
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path));
        Assert.Contains(path, e.Message);
        // Gzip data has no length to compare with: trailing data is found by reading past the declared end.
        Assert.Contains(expected == "trailing bytes" ? "longer than the 2 bytes" : expected, e.Message);
    }

    [Fact]
    public void ReadHeaderOfPlainFileChecksLength()
    {
        using var dir = new ScratchDirectory();
        string path = dir.Write("short", IdxBytes.Build(0x08, [10], [1, 2]));
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadHeader(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void CorruptGzipStreamGivesClearError()
    {
        using var dir = new ScratchDirectory();
        byte[] gz = IdxBytes.Gzip(IdxBytes.Images(4));
        for (int i = 12; i < gz.Length - 8; i++) gz[i] ^= 0x5A; // keep the gzip header, spoil the deflate data
        string path = dir.Write("spoiled.gz", gz);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), "backprop-no-such-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<FileNotFoundException>(() => IdxFile.Read(path));
        Assert.Contains(path, e.Message);
    }
}
