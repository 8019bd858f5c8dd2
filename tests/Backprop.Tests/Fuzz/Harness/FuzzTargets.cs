using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Data;
using Backprop.Detection;
using Backprop.IO;
using Backprop.Keras;
using Backprop.Vision;
using Google.Protobuf;

namespace Backprop.Tests.Fuzz.Harness;

/// <summary>
/// One reader under fuzzing: the file name a mutated input is written to, valid seeds, and the read itself,
/// done the way the command line does it (read, then use what was read, so lazy errors surface too).
/// </summary>
/// <param name="Name">Short name: the corpus folder, the argument of bench/fuzz.</param>
/// <param name="FileName">Name of the input file inside a fresh directory (a path inside it for LMDB's data.mdb).</param>
/// <param name="Seeds">Valid inputs, made on first use.</param>
/// <param name="Read">Reads the file at the given path.</param>
/// <param name="Prepare">Writes any files the read needs beside the input (not counted against allocations).</param>
public sealed record FuzzTarget(string Name, string FileName, Lazy<IReadOnlyList<(string Name, byte[] Bytes)>> Seeds, Action<string> Read, Action<string>? Prepare = null)
{
    /// <summary>What an error message must contain for <paramref name="inputPath"/>: the file, or for LMDB its directory.</summary>
    public string NamedIn(string inputPath) => Name == "lmdb" ? Path.GetDirectoryName(inputPath)! : inputPath;

    public override string ToString() => Name;
}

/// <summary>Every reader that takes a file from outside, by name.</summary>
public static class FuzzTargets
{
    private static readonly Lazy<CaffeNet> tinyNet = new(TinyCaffeNet);
    private static readonly Lazy<CaffeSolver> tinySolver = new(() => new CaffeSolver(FuzzSeeds.TinySolver(), log: TextWriter.Null));
    private static readonly Lazy<byte[]> solverStateModel = new(FuzzSeeds.SolverStateModel);

    /// <summary>The targets in a fixed order; names are the corpus folders.</summary>
    public static readonly IReadOnlyList<FuzzTarget> All =
    [
        new("prototxt-net", "net.prototxt", Seeds(FuzzSeeds.NetPrototxt), path => Prototxt.ParseFile<NetParameter>(path)),
        new("prototxt-solver", "solver.prototxt", Seeds(FuzzSeeds.SolverPrototxt), path => Prototxt.ParseFile<SolverParameter>(path)),
        new("caffemodel", "weights.caffemodel", Seeds(FuzzSeeds.CaffeModel), ReadCaffeModel),
        new("solverstate", "tiny_iter_1.solverstate", Seeds(FuzzSeeds.SolverState), path => tinySolver.Value.Restore(path),
            path => File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, FuzzSeeds.SolverStateModelName), solverStateModel.Value)),
        new("idx", "images.idx", Seeds(FuzzSeeds.Idx), ReadIdx),
        new("idx-gzip", "images.idx.gz", Seeds(FuzzSeeds.IdxGzip), ReadIdx),
        new("npy", "array.npy", Seeds(FuzzSeeds.Npy), path => NpyFile.Read(path).ToArray()),
        new("safetensors", "weights.safetensors", Seeds(FuzzSeeds.SafeTensorsFiles), ReadSafeTensors),
        new("keras", "model.safetensors", Seeds(FuzzSeeds.KerasModel), path => Sequential.Load(path, new Generator(1)).Summary(print: false)),
        new("image-png", "image.png", Seeds(FuzzSeeds.Png), ReadImage),
        new("image-bmp", "image.bmp", Seeds(FuzzSeeds.Bmp), ReadImage),
        new("image-jpeg", "image.jpg", Seeds(FuzzSeeds.Jpeg), ReadImage),
        new("datum", "records.bin", Seeds(FuzzSeeds.DatumRecords), ReadDatumRecords),
        new("lmdb", "train_lmdb/data.mdb", Seeds(FuzzSeeds.LmdbData), ReadLmdb),
        new("voc-xml", "000005.xml", Seeds(FuzzSeeds.VocXml), path => VocAnnotation.Parse(path)),
    ];

    /// <summary>The target called <paramref name="name"/>.</summary>
    public static FuzzTarget Named(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"No fuzz target '{name}'; there are: {string.Join(", ", All.Select(t => t.Name))}.");

    internal static CaffeNet TinyCaffeNet() =>
        CaffeNet.Build(Prototxt.Parse<NetParameter>(FuzzSeeds.TinyNet), new NetState { Phase = Phase.Test }, new Generator(5), new NetContext(Phase.Test, 5));

    private static Lazy<IReadOnlyList<(string, byte[])>> Seeds(Func<IReadOnlyList<(string, byte[])>> make) => new(make);

    private static void ReadCaffeModel(string path) => tinyNet.Value.CopyTrainedLayersFrom(Snapshots.ReadModel(path), path);

    private static void ReadIdx(string path)
    {
        var data = IdxFile.Read(path);
        data.AsFloats();
    }

    private static void ReadSafeTensors(string path)
    {
        SafeTensors.ReadMetadata(path);
        foreach (var tensor in SafeTensors.Read(path).Values) tensor.ToArray();
    }

    private static void ReadImage(string path)
    {
        ImageFile.Load(path);
        ImageFile.Load(path, color: false);
    }

    /// <summary>
    /// Records as Caffe's Data layer sees them: each value parsed as a Datum (as the LMDB reader parses its values),
    /// gathered into one array, every record read back and transformed. The input holds the values one after
    /// another, each behind a protobuf varint length; a length past the end takes the rest.
    /// </summary>
    private static void ReadDatumRecords(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var values = new List<(int Start, int Length)>();
        for (int at = 0; at < bytes.Length;)
        {
            ulong length = 0;
            int shift = 0;
            while (at < bytes.Length && shift < 64)
            {
                byte b = bytes[at++];
                length |= (ulong)(b & 0x7F) << shift;
                shift += 7;
                if (b < 0x80) break;
            }
            int take = (int)Math.Min(length, (ulong)(bytes.Length - at));
            values.Add((at, take));
            at += take;
        }
        var datums = values.Select((v, i) =>
        {
            string key = i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
            return (key, LmdbDatumReader.Parse(path, key, bytes.AsSpan(v.Start, v.Length)));
        });
        ReadRecords(DatumRecords.FromDatums(datums, values.Count, $"fuzz: {path}", bytes.Length), path);
    }

    private static void ReadLmdb(string dataPath)
    {
        string directory = Path.GetDirectoryName(dataPath)!;
        ReadRecords(DatumRecords.Load(directory, "fuzz"), directory);
    }

    private static void ReadRecords(DatumRecords records, string where)
    {
        if (records.Count == 0) return;
        var transformer = new DataTransformer(new TransformationParameter { Scale = 0.5f }, where);
        transformer.Setup(records.Channels, records.Height, records.Width);
        var pixels = new float[records.Channels * records.Height * records.Width];
        var output = new float[pixels.Length];
        for (int i = 0; i < records.Count; i++)
        {
            records.Read(i, pixels);
            transformer.Transform(pixels, output, new Generator(1), training: false);
        }
    }
}
