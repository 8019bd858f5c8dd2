using System.Buffers.Binary;
using System.Text;
using Backprop.IO;

namespace Backprop.Tests.IO;

public class NpyFileTests
{
    // Bytes written by numpy 1.24.2: np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)).
    private const string NumpyArange2x3 =
        "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c20" +
        "33292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a" +
        "000000000000803f0000004000004040000080400000a040";

    // np.save(f, np.array(2.5, dtype='<f4')): a rank-0 array.
    private const string NumpyScalar =
        "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028292c20" +
        "7d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a" +
        "00002040";

    // np.save(f, np.array([1, -2, 3], dtype='<i8')).
    private const string NumpyInt64 =
        "934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c29" +
        "2c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a" +
        "0100000000000000feffffffffffffff0300000000000000";

    /// <summary>
    /// The bytes numpy writes for a header dict: magic, version, little-endian header length (2 bytes in 1.0,
    /// 4 in 2.0/3.0), the dict padded with spaces and a final '\n' so the whole header is a multiple of 64.
    /// </summary>
    private static byte[] Npy(int major, string dict, byte[] data)
    {
        byte[] text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(dict);
        int prefix = 8 + (major == 1 ? 2 : 4);
        int padding = 64 - (prefix + text.Length + 1) % 64;
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        int headerLength = text.Length + padding + 1;
        if (major == 1) bytes.AddRange(BitConverter.GetBytes((ushort)headerLength));
        else bytes.AddRange(BitConverter.GetBytes((uint)headerLength));
        bytes.AddRange(text);
        bytes.AddRange(Enumerable.Repeat((byte)' ', padding));
        bytes.Add((byte)'\n');
        Assert.Equal(0, (bytes.Count) % 64);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private static string Dict(string descr, string shape, bool fortran = false) =>
        $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";

    private static byte[] Bytes<T>(T[] values, Func<T, byte[]> encode) => values.SelectMany(encode).ToArray();

    private static byte[] LittleF4(params float[] v) => Bytes(v, x => { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, x); return b; });

    private static Tensor ReadBytes(byte[] bytes, out string path, TempDirectory dir)
    {
        path = dir.File("a.npy");
        File.WriteAllBytes(path, bytes);
        return NpyFile.Read(path);
    }

    private static InvalidDataException ReadInvalid(byte[] bytes)
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.npy");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => NpyFile.Read(path));
        Assert.Contains(path, e.Message);
        return e;
    }

    public static TheoryData<int[]> Shapes => new() { Array.Empty<int>(), new[] { 5 }, new[] { 2, 3, 4, 5 }, new[] { 3, 0, 2 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RoundTripKeepsShapeAndValues(int[] shape)
    {
        using var dir = new TempDirectory();
        int length = shape.Aggregate(1, (a, b) => a * b);
        var values = Enumerable.Range(0, length).Select(i => i * 0.37f - 5f).ToArray();
        var tensor = shape.Length == 0 ? Tensor.Scalar(-1.25f) : Tensor.FromArray(values, shape);
        string path = dir.File("t.npy");

        NpyFile.Write(path, tensor);
        var back = NpyFile.Read(path);

        Assert.Equal(tensor.Shape, back.Shape);
        Assert.Equal(tensor.ToArray(), back.ToArray());
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void WriterMatchesNumpyByteForByte()
    {
        var stream = new MemoryStream();
        NpyFile.Write(stream, Tensor.FromArray([0, 1, 2, 3, 4, 5], 2, 3));
        Assert.Equal(NumpyArange2x3, Convert.ToHexStringLower(stream.ToArray()));

        stream = new MemoryStream();
        NpyFile.Write(stream, Tensor.Scalar(2.5f));
        Assert.Equal(NumpyScalar, Convert.ToHexStringLower(stream.ToArray()));
    }

    [Fact]
    public void ReadsFilesNumpyWrote()
    {
        using var dir = new TempDirectory();
        var a = ReadBytes(Convert.FromHexString(NumpyArange2x3), out _, dir);
        Assert.Equal(new Shape(2, 3), a.Shape);
        Assert.Equal([0f, 1, 2, 3, 4, 5], a.ToArray());

        var s = ReadBytes(Convert.FromHexString(NumpyScalar), out _, dir);
        Assert.Equal(0, s.Rank);
        Assert.Equal(2.5f, s.Item());

        var i = ReadBytes(Convert.FromHexString(NumpyInt64), out _, dir);
        Assert.Equal(new Shape(3), i.Shape);
        Assert.Equal([1f, -2, 3], i.ToArray());
    }

    [Fact]
    public void ReadsVersion1DtypesConvertingToFloat32()
    {
        using var dir = new TempDirectory();
        var f8 = Bytes([1.5, -2.25, 1e300], x => BitConverter.GetBytes(x));
        Assert.Equal([1.5f, -2.25f, float.PositiveInfinity], ReadBytes(Npy(1, Dict("<f8", "(3,)"), f8), out _, dir).ToArray());

        var i4 = Bytes([7, -8, int.MaxValue, 0], x => BitConverter.GetBytes(x));
        var t = ReadBytes(Npy(1, Dict("<i4", "(2, 2)"), i4), out _, dir);
        Assert.Equal(new Shape(2, 2), t.Shape);
        Assert.Equal([7f, -8f, 2147483648f, 0f], t.ToArray());

        var i8 = Bytes([long.MinValue, 42L], x => BitConverter.GetBytes(x));
        Assert.Equal([-9.223372E+18f, 42f], ReadBytes(Npy(1, Dict("<i8", "(2,)"), i8), out _, dir).ToArray());

        Assert.Equal([0f, 255f, 7f], ReadBytes(Npy(1, Dict("|u1", "(3,)"), [0, 255, 7]), out _, dir).ToArray());

        var f2 = Bytes([(Half)0.5f, (Half)(-3f)], x => BitConverter.GetBytes(x));
        Assert.Equal([0.5f, -3f], ReadBytes(Npy(1, Dict("<f2", "(2,)"), f2), out _, dir).ToArray());
    }

    [Fact]
    public void ConvertsBigEndianData()
    {
        using var dir = new TempDirectory();
        byte[] f4 = [0x3f, 0xc0, 0, 0, 0xc0, 0x20, 0, 0]; // 1.5, -2.5
        Assert.Equal([1.5f, -2.5f], ReadBytes(Npy(1, Dict(">f4", "(2,)"), f4), out _, dir).ToArray());
        byte[] i4 = [0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0]; // -2, 256
        Assert.Equal([-2f, 256f], ReadBytes(Npy(1, Dict(">i4", "(2,)"), i4), out _, dir).ToArray());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void ReadsVersion2And3Headers(int major)
    {
        using var dir = new TempDirectory();
        var bytes = Npy(major, Dict("<f4", "(1, 3)"), LittleF4(1, 2, 3));
        Assert.Equal(major, bytes[6]);
        Assert.Equal((uint)(bytes.Length - 12 - 12), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        var t = ReadBytes(bytes, out _, dir);
        Assert.Equal(new Shape(1, 3), t.Shape);
        Assert.Equal([1f, 2, 3], t.ToArray());
    }

    [Fact]
    public void ToleratesOldStyleHeaders()
    {
        using var dir = new TempDirectory();
        // Python 2 era: long suffixes, keys in another order, double quotes, no trailing comma.
        var bytes = Npy(1, "{\"shape\": (2L,), 'fortran_order': False, 'descr': '<f4'}", LittleF4(4, 5));
        Assert.Equal([4f, 5f], ReadBytes(bytes, out _, dir).ToArray());
    }

    [Fact]
    public void WritesVersion2WhenTheHeaderDoesNotFitVersion1()
    {
        var shape = Enumerable.Repeat(1, 30_000).ToArray(); // "1, " * 30000 > 65535 bytes
        var tensor = Tensor.FromArray([3.5f], shape);
        var stream = new MemoryStream();
        NpyFile.Write(stream, tensor);
        byte[] bytes = stream.ToArray();
        Assert.Equal(2, bytes[6]);
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        Assert.True(headerLength > ushort.MaxValue);
        Assert.Equal(0u, (12 + headerLength) % 64);
        Assert.Equal(12 + headerLength + 4, (uint)bytes.Length);

        stream.Position = 0;
        var back = NpyFile.Read(stream);
        Assert.Equal(tensor.Shape, back.Shape);
        Assert.Equal(3.5f, back.ToArray()[0]);
    }

    [Fact]
    public void ReadsConsecutiveArraysFromOneStream()
    {
        var stream = new MemoryStream();
        NpyFile.Write(stream, Tensor.FromArray([1f, 2f], 2));
        NpyFile.Write(stream, Tensor.Scalar(9f));
        stream.Position = 0;
        Assert.Equal([1f, 2f], NpyFile.Read(stream).ToArray());
        Assert.Equal(9f, NpyFile.Read(stream).Item());
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void ReadsFromAStreamThatCannotSeek()
    {
        var bytes = Npy(1, Dict("<f8", "(2, 2)"), Bytes([1.0, 2, 3, 4], x => BitConverter.GetBytes(x)));
        var t = NpyFile.Read(new NonSeekableStream(bytes));
        Assert.Equal([1f, 2, 3, 4], t.ToArray());

        var e = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new NonSeekableStream(bytes[..^3])));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void RejectsFortranOrder()
    {
        var e = ReadInvalid(Npy(1, Dict("<f4", "(2, 3)", fortran: true), LittleF4(1, 2, 3, 4, 5, 6)));
        Assert.Contains("Fortran", e.Message);
    }

    [Fact]
    public void RejectsTruncatedData()
    {
        var e = ReadInvalid(Npy(1, Dict("<f4", "(2, 3)"), LittleF4(1, 2, 3, 4, 5)));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("24 data bytes", e.Message);
    }

    [Fact]
    public void RejectsExtraData()
    {
        var e = ReadInvalid(Npy(1, Dict("<f4", "(2,)"), LittleF4(1, 2, 3)));
        Assert.Contains("needs 8 data bytes but 12", e.Message);
    }

    [Fact]
    public void RejectsHeaderLengthBeyondTheFile()
    {
        var bytes = Npy(1, Dict("<f4", "(2,)"), LittleF4(1, 2));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 60000);
        Assert.Contains("header length is 60000", ReadInvalid(bytes).Message);

        var v2 = Npy(2, Dict("<f4", "(2,)"), LittleF4(1, 2));
        BinaryPrimitives.WriteUInt32LittleEndian(v2.AsSpan(8), uint.MaxValue);
        Assert.Contains("header length is 4294967295", ReadInvalid(v2).Message);
    }

    [Fact]
    public void RejectsAbsurdShapesWithoutAllocating()
    {
        var huge = Npy(1, Dict("<f4", "(1000000000, 1000000000)"), LittleF4(1, 2));
        var overflow = Npy(1, Dict("<f8", "(99999999999999999999,)"), []);
        var tooBig = Npy(1, Dict("<f8", "(2000000000,)"), LittleF4(1, 2));

        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("more elements than a tensor can hold", ReadInvalid(huge).Message);
        Assert.Contains("too large", ReadInvalid(overflow).Message);
        Assert.Contains("needs 16000000000 data bytes", ReadInvalid(tooBig).Message);
        var e = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new NonSeekableStream(tooBig)));
        Assert.Contains("cannot seek", e.Message);
        var claimsMuch = Npy(1, Dict("<f8", "(200000000,)"), LittleF4(1, 2));
        e = Assert.Throws<InvalidDataException>(() => NpyFile.Read(new NonSeekableStream(claimsMuch)));
        Assert.Contains("truncated", e.Message);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 10_000_000, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "negative")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, }", "no 'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", "unexpected key 'extra'")]
    [InlineData("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", "object arrays")]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", "'<c8' is not supported")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "structured dtype")]
    [InlineData("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", "'fortran_order' must be True or False")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os').system('x'), }", "unexpected name '__import__'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", "ends inside the dictionary")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", "unexpected text")]
    [InlineData("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "twice")]
    [InlineData("((((((((((((((((((((((((((((((((((((((((((((((((((", "not a dictionary")]
    [InlineData("{'a': ((((((((((((((((((((((((((((((((((((((((((((((((((", "nested more than")]
    public void RejectsBadHeadersClearly(string dict, string expected)
    {
        var e = ReadInvalid(Npy(1, dict, LittleF4(1, 2)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void RejectsBadMagicVersionAndShortFiles()
    {
        var good = Npy(1, Dict("<f4", "(1,)"), LittleF4(1));
        var badMagic = (byte[])good.Clone();
        badMagic[1] = (byte)'X';
        Assert.Contains("magic string", ReadInvalid(badMagic).Message);

        var badVersion = (byte[])good.Clone();
        badVersion[6] = 4;
        Assert.Contains("version is 4.0", ReadInvalid(badVersion).Message);

        Assert.Contains("too short", ReadInvalid(good[..5]).Message);
        Assert.Contains("header length", ReadInvalid(good[..9]).Message);
        Assert.Contains("too short", ReadInvalid([]).Message);
    }

    [Fact]
    public void RejectsVersion3HeaderThatIsNotUtf8()
    {
        var bytes = Npy(3, Dict("<f4", "(1,)"), LittleF4(1));
        bytes[12 + 2] = 0xff; // inside 'descr'
        Assert.Contains("not valid UTF-8", ReadInvalid(bytes).Message);
    }

    [Fact]
    public void FailedWriteLeavesNoTemporaryFileAndKeepsTheOldOne()
    {
        using var dir = new TempDirectory();
        string path = dir.File("t.npy");
        NpyFile.Write(path, Tensor.FromArray([1f, 2f], 2));
        NpyFile.Write(path, Tensor.FromArray([3f], 1)); // overwrite
        Assert.Equal([3f], NpyFile.Read(path).ToArray());

        // A directory where the file should go: the rename fails after the data was written.
        string blocked = dir.File("blocked.npy");
        Directory.CreateDirectory(blocked);
        Assert.ThrowsAny<IOException>(() => NpyFile.Write(blocked, Tensor.Scalar(1f)));
        Assert.False(File.Exists(blocked + ".tmp"));
        Assert.True(Directory.Exists(blocked));
    }
}
