using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.Caffe.Net;
using Backprop.Tests.IO;
using PureHDF;

namespace Backprop.Tests.Caffe.Hdf5;

public sealed class Hdf5MalformedFileTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private string Write(string name, H5File file)
    {
        file.Write(dir.File(name));
        return dir.File(name);
    }

    private static H5File Records(int data, int labels, string dataName = "data") => new()
    {
        [dataName] = new H5Dataset(Enumerable.Range(0, data * 3).Select(i => (float)i).ToArray(), fileDims: [(ulong)data, 3]),
        ["label"] = new H5Dataset(new float[labels], fileDims: [(ulong)labels]),
    };

    // Building the net checks every file's datasets; the first forward pass reads the data.
    private CaffeNetException BuildFails(string file)
    {
        File.WriteAllText(dir.File("list.txt"), file);
        var e = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build($$"""
            layer { name: "h5" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "{{dir.File("list.txt")}}" batch_size: 2 } }
            """).Forward(new NetContext(Phase.Train)));
        Assert.Contains(file, e.Message);
        Assert.Contains("'h5'", e.Message);
        return e;
    }

    [Fact]
    public void AMissingDatasetIsNamed() =>
        Assert.Contains("no dataset 'data'", BuildFails(Write("names.h5", Records(4, 4, dataName: "images"))).Message);

    [Fact]
    public void TopsWithDifferentRecordCountsAreRefused() =>
        Assert.Contains("'label' has 3 records but 'data' has 4", BuildFails(Write("counts.h5", Records(4, 3))).Message);

    [Fact]
    public void FilesWhoseRecordShapesDisagreeAreRefused()
    {
        string a = Write("a.h5", Records(4, 4));
        string b = Write("b.h5", new H5File { ["data"] = new H5Dataset(new float[8], fileDims: [4, 2]), ["label"] = new float[4] });
        File.WriteAllText(dir.File("list.txt"), $"{a}\n{b}\n");
        var e = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build($$"""
            layer { name: "h5" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "{{dir.File("list.txt")}}" batch_size: 2 } }
            """));
        Assert.Contains($"{b}: dataset 'data' has records of shape (2), but {a} has (3)", e.Message);
    }

    [Fact]
    public void AStringDatasetIsRefused() =>
        Assert.Contains("Caffe reads only float and integer datasets", BuildFails(Write("strings.h5", new H5File { ["data"] = new[] { "a", "b" }, ["label"] = new float[2] })).Message);

    // A file of 7777 records whose dataspace is patched to declare more: the dimension is stored as a little-endian 8-byte length.
    private string Patched(string name, ulong declared)
    {
        string path = Write(name, new H5File
        {
            ["data"] = new H5Dataset(new float[7777 * 3], fileDims: [7777, 3]),
            ["label"] = new H5Dataset(new float[7777], fileDims: [7777]),
        });
        var bytes = File.ReadAllBytes(path);
        var needle = BitConverter.GetBytes(7777UL);
        int patched = 0;
        for (int i = 0; i + 8 <= bytes.Length; i++)
            if (bytes.AsSpan(i, 8).SequenceEqual(needle)) { BitConverter.GetBytes(declared).CopyTo(bytes, i); patched++; }
        Assert.Equal(2, patched);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void AHugeDeclaredDimensionIsRefusedBeforeAnyRead()
    {
        Assert.Contains("dimension 0 as 77770000000000, more than Caffe's blobs allow", BuildFails(Patched("huge.h5", 7777UL * 10_000_000_000)).Message);
        Assert.Contains("more than one array holds", BuildFails(Patched("many.h5", 2_000_000_000)).Message);
        var e = BuildFails(Patched("long.h5", 7777UL * 100));
        Assert.Contains("declares (777700, 3) (9332400 bytes), more than a", e.Message);
        Assert.Contains("truncated or corrupt", e.Message);
    }

    [Fact]
    public void EveryTruncationOfADataFileGivesAnErrorNamingIt()
    {
        var full = File.ReadAllBytes(Write("whole.h5", Records(5, 5)));
        string cut = dir.File("cut.h5");
        for (int length = 0; length < full.Length; length += 1 + length / 20)
        {
            File.WriteAllBytes(cut, full[..length]);
            BuildFails(cut);
        }
    }

    [Fact]
    public void TruncatedOrForeignSnapshotsAreRefusedNamingTheFile()
    {
        var p = Prototxt.Parse<SolverParameter>($"""base_lr: 0.1 max_iter: 2 snapshot: 2 snapshot_prefix: "{dir.File("s")}" snapshot_format: HDF5 snapshot_after_train: false""");
        p.NetParam = Prototxt.Parse<NetParameter>(TinyNets.ConvReluInnerProduct.Replace("type: \"Input\"", "type: \"DummyData\"")
            .Replace("input_param", "dummy_data_param"));
        new CaffeSolver(p).Solve();
        string model = dir.File("s_iter_2.caffemodel.h5"), state = dir.File("s_iter_2.solverstate.h5");
        foreach (var (file, load) in new (string, Action<CaffeSolver, string>)[] { (model, (s, f) => s.LoadWeights(f)), (state, (s, f) => s.Restore(f)) })
        {
            var full = File.ReadAllBytes(file);
            string cut = dir.File("cut-" + Path.GetFileName(file));
            for (int length = 0; length < full.Length; length += 1 + length / 10)
            {
                File.WriteAllBytes(cut, full[..length]);
                var e = Assert.Throws<CaffeNetException>(() => load(new CaffeSolver(p), cut));
                Assert.Contains(cut, e.Message);
            }
        }
        // A weights file that is a data file (no 'data' group of layers... it has a dataset 'data').
        string data = Write("records.h5", Records(2, 2));
        Assert.Contains("'data' is a dataset, not a group", Assert.Throws<CaffeNetException>(() => new CaffeSolver(p).LoadWeights(data)).Message);
        // A solver state whose history does not match the net.
        Write("short.solverstate.h5", new H5File { ["iter"] = new[] { 2 }, ["current_step"] = new[] { 0 }, ["history"] = new H5Group() });
        Assert.Contains("0 history blobs", Assert.Throws<CaffeNetException>(() =>
        {
            var s = new CaffeSolver(p);
            Snapshots.RestoreHistory(Snapshots.ReadState(dir.File("short.solverstate.h5")), s, "short");
        }).Message);
    }
}
