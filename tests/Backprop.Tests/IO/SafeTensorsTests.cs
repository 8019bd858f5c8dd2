using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Backprop.IO;

namespace Backprop.Tests.IO;

public class SafeTensorsTests
{
    /// <summary>A safetensors file by the spec: u64 little-endian header length, the JSON header, the data buffer.</summary>
    private static byte[] File(string json, byte[] data, ulong? headerLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static byte[] F32(params float[] v) => v.SelectMany(x => BitConverter.GetBytes(x)).ToArray();

    private static Dictionary<string, Tensor> ReadBytes(byte[] bytes, TempDirectory dir)
    {
        string path = dir.File("m.safetensors");
        System.IO.File.WriteAllBytes(path, bytes);
        return SafeTensors.Read(path);
    }

    private static InvalidDataException ReadInvalid(byte[] bytes)
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.safetensors");
        System.IO.File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path));
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void ReadsHandBuiltF32()
    {
        using var dir = new TempDirectory();
        var bytes = File(
            """{"b":{"dtype":"F32","shape":[3],"data_offsets":[16,28]},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"s":{"dtype":"F32","shape":[],"data_offsets":[28,32]}}""",
            F32(1, 2, 3, 4, -1, -2, -3, 7.5f));
        var t = ReadBytes(bytes, dir);
        Assert.Equal(["a", "b", "s"], t.Keys.Order());
        Assert.Equal(new Shape(2, 2), t["a"].Shape);
        Assert.Equal([1f, 2, 3, 4], t["a"].ToArray());
        Assert.Equal([-1f, -2, -3], t["b"].ToArray());
        Assert.Equal(0, t["s"].Rank);
        Assert.Equal(7.5f, t["s"].Item());
    }

    [Fact]
    public void ConvertsOtherDtypesToFloat32()
    {
        using var dir = new TempDirectory();
        var data = new List<byte>();
        data.AddRange(BitConverter.GetBytes(1.25)); data.AddRange(BitConverter.GetBytes(-1e40)); // F64 [0,16)
        data.AddRange(BitConverter.GetBytes(-5L)); data.AddRange(BitConverter.GetBytes(1L << 40)); // I64 [16,32)
        data.AddRange(BitConverter.GetBytes(123456)); // I32 [32,36)
        data.AddRange(BitConverter.GetBytes((Half)0.75f)); // F16 [36,38)
        data.AddRange(new byte[] { 0xc0, 0x3f }); // BF16 0x3fc0 = 1.5, [38,40)
        var bytes = File("""
            {"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},
             "l":{"dtype":"I64","shape":[2,1],"data_offsets":[16,32]},
             "i":{"dtype":"I32","shape":[1],"data_offsets":[32,36]},
             "h":{"dtype":"F16","shape":[1],"data_offsets":[36,38]},
             "b":{"dtype":"BF16","shape":[1],"data_offsets":[38,40]}}
            """, data.ToArray());
        var t = ReadBytes(bytes, dir);
        Assert.Equal([1.25f, float.NegativeInfinity], t["d"].ToArray());
        Assert.Equal(new Shape(2, 1), t["l"].Shape);
        Assert.Equal([-5f, 1099511627776f], t["l"].ToArray());
        Assert.Equal([123456f], t["i"].ToArray());
        Assert.Equal([0.75f], t["h"].ToArray());
        Assert.Equal([1.5f], t["b"].ToArray());
    }

    [Fact]
    public void RoundTripsWithMetadataInTheSpecLayout()
    {
        using var dir = new TempDirectory();
        string path = dir.File("m.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["z.weight"] = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3),
            ["a.bias"] = Tensor.FromArray([-1f, 0.5f], 2),
            ["empty"] = Tensor.Zeros(0, 4),
            ["scalar"] = Tensor.Scalar(9f),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "h\u00e9llo \"quoted\"" };

        SafeTensors.Write(path, tensors, metadata);

        Assert.False(System.IO.File.Exists(path + ".tmp"));
        var back = SafeTensors.Read(path);
        Assert.Equal(tensors.Keys.Order(), back.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.Shape, back[name].Shape);
            Assert.Equal(t.ToArray(), back[name].ToArray());
        }
        Assert.Equal(metadata, SafeTensors.ReadMetadata(path));

        // The layout, checked by hand: header length multiple of 8, space padding, sorted contiguous F32 data.
        byte[] bytes = System.IO.File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0ul, n % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length);
        using var json = JsonDocument.Parse(header);
        var names = json.RootElement.EnumerateObject().Select(p => p.Name).Where(p => p != "__metadata__").ToArray();
        Assert.Equal(["a.bias", "empty", "scalar", "z.weight"], names);
        var w = json.RootElement.GetProperty("z.weight");
        Assert.Equal("F32", w.GetProperty("dtype").GetString());
        Assert.Equal([2, 3], w.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([12L, 36L], w.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([-1f, 0.5f, 9f, 1, 2, 3, 4, 5, 6], MemoryMarshalFloats(bytes.AsSpan(8 + (int)n)));
    }

    private static float[] MemoryMarshalFloats(ReadOnlySpan<byte> b)
    {
        var r = new float[b.Length / 4];
        for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadSingleLittleEndian(b[(i * 4)..]);
        return r;
    }

    [Fact]
    public void RejectsBadHeaderLengths()
    {
        string json = """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        Assert.Contains("only", ReadInvalid(File(json, F32(1), headerLength: 1000)).Message);
        Assert.Contains("18446744073709551615", ReadInvalid(File(json, F32(1), headerLength: ulong.MaxValue)).Message);
        Assert.Contains("too few", ReadInvalid([1, 2, 3]).Message);
        Assert.Contains("not valid JSON", ReadInvalid(File(json, F32(1), headerLength: 10)).Message);
    }

    [Fact]
    public void RejectsOffsetsOutOfRange()
    {
        var e = ReadInvalid(File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", F32(1, 2)));
        Assert.Contains("'a'", e.Message);
        Assert.Contains("beyond", e.Message);
    }

    [Fact]
    public void RejectsOverlappingOffsets()
    {
        var e = ReadInvalid(File(
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""",
            F32(1, 2, 3)));
        Assert.Contains("'b'", e.Message);
        Assert.Contains("overlaps tensor 'a'", e.Message);
    }

    [Fact]
    public void RejectsWrongByteCount()
    {
        var e = ReadInvalid(File("""{"w":{"dtype":"F64","shape":[2,2],"data_offsets":[0,16]}}""", F32(1, 2, 3, 4)));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("needs 32 bytes", e.Message);
    }

    [Fact]
    public void RejectsGapsAndTrailingBytes()
    {
        Assert.Contains("gap of 4", ReadInvalid(File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", F32(1, 2))).Message);
        Assert.Contains("extra bytes", ReadInvalid(File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", F32(1, 2))).Message);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "names 'a' twice")]
    [InlineData("""{"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}""", "'a' has dtype \"F8_E4M3\"")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "'a' has a shape dimension -2")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}""", "'a' has a shape dimension 1.5")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", "end before they begin")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2]}}""", "'a' has no \"data_offsets\"")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1000000000,1000000000],"data_offsets":[0,8]}}""", "more elements than a tensor can hold")]
    [InlineData("""{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "metadata entry 'k'")]
    [InlineData("""[1,2]""", "not an object")]
    public void RejectsMalformedHeadersNamingTheTensor(string json, string expected)
    {
        Assert.Contains(expected, ReadInvalid(File(json, F32(1, 2))).Message);
    }

    [Fact]
    public void WriteRejectsTheReservedNameAndLeavesNoFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");
        var tensors = new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Scalar(1f) };
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, tensors));
        Assert.False(System.IO.File.Exists(path));
        Assert.False(System.IO.File.Exists(path + ".tmp"));
    }
}
