using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Backprop.Caffe.Proto;
using Backprop.Tests.Fuzz.Harness;
using Google.Protobuf;
using SkiaSharp;

/// <summary>
/// The hostile files issue 13's trial found, rebuilt from their description, in the corpus layout
/// (&lt;dir&gt;/&lt;target&gt;/issue13-*.bin). Run once to make the committed corpus entries; kept as their record.
/// </summary>
internal static class IssueCases
{
    public static void Write(string dir)
    {
        void Save(string target, string name, byte[] bytes)
        {
            Directory.CreateDirectory(Path.Combine(dir, target));
            File.WriteAllBytes(Path.Combine(dir, target, $"issue13-{name}.bin"), bytes);
        }

        // IDX: a gzip header claiming 16384x16384x4 bytes, and a "bomb" claiming 1 GiB that inflates to 4 MiB of zeros.
        Save("idx-gzip", "gzip-claims-16384x16384x4", Gzip(IdxHeader(0x08, 16384, 16384, 4)));
        Save("idx-gzip", "gzip-bomb-claims-1GiB-holds-4MiB", Gzip([.. IdxHeader(0x08, 1 << 30), .. new byte[4 << 20]]));

        // Datum: two 12-byte records claiming 1x1000000x1000 each; one claiming 1x46341x46341 (C*H*W overflows int).
        var huge = new Datum { Channels = 1, Height = 1_000_000, Width = 1000, Data = ByteString.CopyFrom(0) };
        Save("datum", "two-12-byte-records-1x1000000x1000", FuzzSeeds.Delimited([huge, huge]));
        Save("datum", "1x46341x46341", FuzzSeeds.Delimited([new Datum { Channels = 1, Height = 46341, Width = 46341, Data = ByteString.CopyFrom(0) }]));

        // Images: a 630-byte BMP claiming 11000x11000; an 8000x8000 PNG of one colour (about 250 KB, 256 MB decoded).
        var bmp = FuzzSeeds.Bmp24(5, 3);
        Array.Resize(ref bmp, 630);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 11000);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 11000);
        Save("image-bmp", "630-byte-11000x11000", bmp);
        using (var bitmap = new SKBitmap(8000, 8000))
        {
            bitmap.Erase(new SKColor(20, 40, 60));
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            Save("image-png", "8000x8000", png.ToArray());
        }

        // Invalid UTF-8 inside a safetensors header and a saved Keras model's header.
        Save("safetensors", "header-invalid-utf8", BreakUtf8(FuzzSeeds.SafeTensorsFiles()[0].Bytes, "seed"));
        Save("keras", "header-invalid-utf8", BreakUtf8(FuzzSeeds.KerasModel()[0].Bytes, "sequential"));

        // Prototxt: a number of 100,000 digits (the trial's had 10 million; the message must not echo it whole).
        Save("prototxt-net", "long-number-100k-digits", Encoding.ASCII.GetBytes(
            "layer { name: \"a\" type: \"Input\" top: \"a\" input_param { shape { dim: " + new string('7', 100_000) + " } } }\n"));

        // Snapshots: a solver state at iteration -5; an empty caffemodel; a caffemodel with a NaN weight.
        var state = SolverState.Parser.ParseFrom(FuzzSeeds.SolverState()[0].Bytes);
        state.Iter = -5;
        Save("solverstate", "iter-minus-5", state.ToByteArray());
        Save("caffemodel", "empty", []);
        var model = NetParameter.Parser.ParseFrom(FuzzSeeds.CaffeModel()[0].Bytes);
        model.Layer.First(l => l.Blobs.Count > 0).Blobs[0].Data[0] = float.NaN;
        Save("caffemodel", "nan-weight", model.ToByteArray());

        // LMDB: a data.mdb cut in half (the native reader maps it and reads past the end: SIGBUS).
        var mdb = FuzzSeeds.LmdbData()[0].Bytes;
        Save("lmdb", "truncated-half", mdb[..(mdb.Length / 2)]);
    }

    private static byte[] IdxHeader(byte type, params int[] dims)
    {
        var b = new byte[4 + 4 * dims.Length];
        b[2] = type;
        b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        return b;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true)) gzip.Write(bytes);
        return output.ToArray();
    }

    /// <summary>Replaces the first byte of <paramref name="marker"/> in the JSON header with 0xC0 (never valid in UTF-8).</summary>
    private static byte[] BreakUtf8(byte[] file, string marker)
    {
        var copy = (byte[])file.Clone();
        int at = copy.AsSpan().IndexOf(Encoding.ASCII.GetBytes(marker));
        copy[at] = 0xC0;
        return copy;
    }
}
