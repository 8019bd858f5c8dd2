using System.Buffers.Binary;
using Backprop.Caffe;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.IO;
using Backprop.Keras;
using Backprop.Tests.Caffe;
using Backprop.Tests.Data;
using Backprop.Tests.Detection;
using Backprop.Tests.Vision;
using Google.Protobuf;
using SkiaSharp;

namespace Backprop.Tests.Fuzz.Harness;

/// <summary>
/// Small valid files of every kind the readers take, made with the project's own writers, so that mutations
/// start from something each reader accepts and reach past its first checks.
/// </summary>
public static class FuzzSeeds
{
    /// <summary>A net fed by an Input layer (no data files): weights for the caffemodel seeds and target.</summary>
    public const string TinyNet = """
        name: "tiny"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 6 dim: 6 } } }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
          convolution_param { num_output: 2 kernel_size: 3 weight_filler { type: "xavier" } } }
        layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
        layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 3 } }
        """;

    /// <summary>The same layers trained from DummyData, for a solver whose .solverstate the solverstate target restores.</summary>
    public const string TinyTrainNet = """
        name: "tiny"
        layer { name: "data" type: "DummyData" top: "data" top: "label"
          dummy_data_param { shape { dim: 2 dim: 1 dim: 6 dim: 6 } shape { dim: 2 }
                             data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
          convolution_param { num_output: 2 kernel_size: 3 weight_filler { type: "xavier" } } }
        layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
        layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 3 } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """;

    /// <summary>The solver the solverstate target restores into (Adam: two history buffers per parameter).</summary>
    public static SolverParameter TinySolver()
    {
        var p = Prototxt.Parse<SolverParameter>("""
            base_lr: 0.01 momentum: 0.9 momentum2: 0.999 lr_policy: "fixed" max_iter: 10 type: "Adam"
            random_seed: 3 snapshot_after_train: false snapshot_prefix: "tiny"
            """);
        p.NetParam = Prototxt.Parse<NetParameter>(TinyTrainNet);
        return p;
    }

    /// <summary>The file name the solverstate seeds name as their learned_net; the target writes the model there.</summary>
    public const string SolverStateModelName = "tiny_iter_1.caffemodel";

    public static IReadOnlyList<(string Name, byte[] Bytes)> NetPrototxt() =>
    [
        ("lenet", Utf8(LenetPrototxts.TrainTest)),
        ("tiny", Utf8(TinyNet + "\n# a comment\nlayer { name: \"s\" type: \"Silence\" bottom: \"ip\" include { phase: TEST } }\n")),
    ];

    public static IReadOnlyList<(string Name, byte[] Bytes)> SolverPrototxt() =>
    [
        ("lenet", Utf8(LenetPrototxts.Solver)),
        ("inline-net", Utf8(Prototxt.Format(TinySolver()))),
    ];

    public static IReadOnlyList<(string Name, byte[] Bytes)> CaffeModel()
    {
        var net = FuzzTargets.TinyCaffeNet();
        var model = net.ToProto(Prototxt.Parse<NetParameter>(TinyNet));
        var legacy = model.Clone();   // the old num/channels/height/width blob shape and double data
        foreach (var blob in legacy.Layer.SelectMany(l => l.Blobs).Where(b => b.Shape is not null))
        {
            var dims = blob.Shape!.Dim.Select(d => (int)d).ToArray();
            blob.Shape = null;
            blob.Num = 1; blob.Channels = 1; blob.Height = dims.Length > 1 ? dims[^2] : 1; blob.Width = dims[^1];
            if (dims.Length == 4) (blob.Num, blob.Channels, blob.Height, blob.Width) = (dims[0], dims[1], dims[2], dims[3]);
            blob.DoubleData.Add(blob.Data.Select(v => (double)v));
            blob.Data.Clear();
        }
        return [("tiny", model.ToByteArray()), ("tiny-legacy-double", legacy.ToByteArray())];
    }

    public static IReadOnlyList<(string Name, byte[] Bytes)> SolverState()
    {
        using var dir = new ScratchDirectory();
        var p = TinySolver();
        p.SnapshotPrefix = Path.Combine(dir.Path, "tiny");
        var solver = new CaffeSolver(p);
        solver.Step(out _);
        var (_, statePath) = solver.Snapshot();
        var state = Backprop.Caffe.Proto.SolverState.Parser.ParseFrom(File.ReadAllBytes(statePath));
        state.LearnedNet = SolverStateModelName;
        return [("adam-iter1", state.ToByteArray())];
    }

    /// <summary>The model file the solverstate seeds point at, written beside each mutated state.</summary>
    public static byte[] SolverStateModel()
    {
        using var dir = new ScratchDirectory();
        var p = TinySolver();
        p.SnapshotPrefix = Path.Combine(dir.Path, "tiny");
        var solver = new CaffeSolver(p);
        solver.Step(out _);
        var (modelPath, _) = solver.Snapshot();
        return File.ReadAllBytes(modelPath);
    }

    public static IReadOnlyList<(string Name, byte[] Bytes)> Idx() =>
        [("images-3x5x5", IdxBytes.Images(3, 5)), ("labels", IdxBytes.Labels(1, 2, 3, 4)),
         ("int32-2x3", IdxBytes.Build(0x0C, [2, 3], new byte[24])), ("float-4", IdxBytes.Build(0x0D, [4], new byte[16]))];

    public static IReadOnlyList<(string Name, byte[] Bytes)> IdxGzip() => [.. Idx().Select(s => (s.Name, IdxBytes.Gzip(s.Bytes)))];

    public static IReadOnlyList<(string Name, byte[] Bytes)> Npy()
    {
        var seeds = new List<(string, byte[])>();
        foreach (var (name, tensor) in new[] { ("2x3", Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3)), ("1x1x2x2", Tensor.FromArray([0.5f, -1, 3, 7], 1, 1, 2, 2)) })
        {
            var stream = new MemoryStream();
            NpyFile.Write(stream, tensor);
            seeds.Add((name, stream.ToArray()));
        }
        return seeds;
    }

    public static IReadOnlyList<(string Name, byte[] Bytes)> SafeTensorsFiles()
    {
        using var dir = new ScratchDirectory();
        string path = dir.File("w.safetensors");
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3), ["b"] = Tensor.FromArray([1, 2], 2) },
            new Dictionary<string, string> { ["format"] = "pt", ["note"] = "seed" });
        return [("two-tensors", File.ReadAllBytes(path))];
    }

    public static IReadOnlyList<(string Name, byte[] Bytes)> KerasModel()
    {
        using var dir = new ScratchDirectory();
        string path = dir.File("model.safetensors");
        var model = new Sequential(1, new Conv2D(2, 3, activation: "relu", inputShape: (6, 6, 1)), new Flatten(), new Dense(2, activation: "softmax"));
        model.Compile("adam", "sparse_categorical_crossentropy", ["accuracy"]);
        model.Save(path);
        return [("conv-dense", File.ReadAllBytes(path))];
    }

    public static IReadOnlyList<(string Name, byte[] Bytes)> Png() =>
        [("rgba-6x5", TestImages.Encode(5, 6, (y, x) => new SKColor((byte)(40 * x), (byte)(50 * y), 7, (byte)(255 - x))))];

    public static IReadOnlyList<(string Name, byte[] Bytes)> Jpeg() =>
        [("rgb-8x8", TestImages.Encode(8, 8, (y, x) => new SKColor((byte)(30 * x), (byte)(30 * y), 90), SKEncodedImageFormat.Jpeg, 90))];

    public static IReadOnlyList<(string Name, byte[] Bytes)> Bmp() => [("bgr24-5x3", Bmp24(5, 3))];

    /// <summary>A bottom-up 24-bit BMP (SkiaSharp decodes BMP but does not encode it): 14-byte file header, 40-byte info header, rows padded to 4 bytes.</summary>
    public static byte[] Bmp24(int width, int height)
    {
        int row = (width * 3 + 3) & ~3;
        var b = new byte[54 + row * height];
        b[0] = (byte)'B'; b[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), b.Length);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(34), row * height);
        for (int i = 54; i < b.Length; i++) b[i] = (byte)(i * 37);
        return b;
    }

    /// <summary>Caffe Datum records as an LMDB stores them, each behind a varint length (see <see cref="FuzzTargets"/>).</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> DatumRecords()
    {
        var bytesDatums = Enumerable.Range(0, 3).Select(i => MnistToLmdb.MakeDatum(Enumerable.Range(0, 12).Select(p => (byte)(p * 20 + i)).ToArray(), 3, 4, i));
        var floatDatums = Enumerable.Range(0, 2).Select(i =>
        {
            var d = new Datum { Channels = 2, Height = 2, Width = 1, Label = i };
            d.FloatData.Add([0.5f * i, 1, -2, 3]);
            return d;
        });
        return [("bytes-3x1x3x4", Delimited(bytesDatums)), ("floats-2x2x2x1", Delimited(floatDatums))];
    }

    public static byte[] Delimited(IEnumerable<Datum> datums)
    {
        var stream = new MemoryStream();
        foreach (var d in datums) d.WriteDelimitedTo(stream);
        return stream.ToArray();
    }

    /// <summary>A data.mdb of four 5x5 images written by <see cref="MnistToLmdb"/>.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> LmdbData()
    {
        using var dir = new ScratchDirectory();
        string images = dir.Write("images.idx", IdxBytes.Images(4, 5)), labels = dir.Write("labels.idx", IdxBytes.Labels(0, 1, 2, 3));
        string db = dir.File("db");
        MnistToLmdb.Convert(images, labels, db);
        return [("mnist-4x5x5", File.ReadAllBytes(Path.Combine(db, CaffeLmdb.DataFile)))];
    }

    public static IReadOnlyList<(string Name, byte[] Bytes)> VocXml() =>
    [
        ("two-objects", Utf8(VocAnnotationTests.Xml(500, 375,
            VocAnnotationTests.Object("dog", "48", "240", "195", "371"),
            VocAnnotationTests.Object("person", "8.5", "12", "352", "370", difficult: "1", truncated: null)))),
    ];

    private static byte[] Utf8(string text) => System.Text.Encoding.UTF8.GetBytes(text);
}
