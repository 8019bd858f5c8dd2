using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.Caffe.Net;
using Backprop.Tests.IO;
using PureHDF;

namespace Backprop.Tests.Caffe.Hdf5;

public sealed class Hdf5DataLayerTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    // Record r (numbered across the files) has data (2, 3) = 100r + k and label r.
    private void WriteRecords(string name, int first, int count)
    {
        var data = new float[count * 6];
        for (int i = 0; i < data.Length; i++) data[i] = 100 * (first + i / 6) + i % 6;
        var labels = Enumerable.Range(first, count).Select(r => (float)r).ToArray();
        new H5File
        {
            ["data"] = new H5Dataset(data, fileDims: [(ulong)count, 2, 3]),
            ["label"] = new H5Dataset(labels, fileDims: [(ulong)count]),
        }.Write(dir.File(name));
    }

    private CaffeNet Build(string param, Phase phase = Phase.Test, ulong seed = 1) => NetBuilderTests.Build($$"""
        layer { name: "data" type: "HDF5Data" top: "data" top: "label"
          hdf5_data_param { source: "{{dir.File("list.txt")}}" {{param}} } }
        """, phase, seed);

    private static (float[] Data, float[] Labels) Next(CaffeNet net)
    {
        var result = net.Forward(new NetContext(Phase.Test, 1));
        return (result.Blobs["data"].ToArray(), result.Blobs["label"].ToArray());
    }

    [Fact]
    public void BatchesGoThroughTheListedFilesInOrderAndWrapAround()
    {
        Directory.CreateDirectory(dir.File("h5"));
        WriteRecords("h5/a.h5", 0, 3);
        WriteRecords("h5/b.h5", 3, 4);
        File.WriteAllText(dir.File("list.txt"), "h5/a.h5\n  h5/b.h5\n");   // relative to the list, as Caffe's root would give
        var net = Build("batch_size: 5");
        Assert.Equal(new Shape(5, 2, 3), net.BlobShapes["data"]);
        Assert.Equal(new Shape(5), net.BlobShapes["label"]);
        var source = Assert.IsType<Hdf5DataLayer>(net.DataLayer);
        Assert.Equal(7, source.DatasetSize);

        var (data, labels) = Next(net);
        Assert.Equal([0f, 1, 2, 3, 4], labels);
        Assert.Equal([400f, 401, 402, 403, 404, 405], data[24..30]);
        (data, labels) = Next(net);
        Assert.Equal([5f, 6, 0, 1, 2], labels);
        Assert.Equal(200f + 5, data[^1]);

        source.Seek(12);   // resume: sample 12 is record 5
        Assert.Equal([5f, 6, 0, 1, 2], Next(net).Labels);
    }

    [Fact]
    public void ShuffleVisitsEveryRecordOncePerPassInAnOrderTheSeedFixes()
    {
        WriteRecords("a.h5", 0, 6);
        WriteRecords("b.h5", 6, 6);
        File.WriteAllText(dir.File("list.txt"), $"{dir.File("a.h5")} {dir.File("b.h5")}");
        var net = Build("batch_size: 4 shuffle: true");
        var pass = Enumerable.Range(0, 3).SelectMany(_ => Next(net).Labels).ToArray();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), pass.Order());
        Assert.NotEqual(Enumerable.Range(0, 12).Select(i => (float)i), pass);
        var (data, labels) = Next(net);
        for (int i = 0; i < 4; i++) Assert.Equal(100 * labels[i] + 5, data[6 * i + 5]);   // data and labels stay paired

        var again = Build("batch_size: 4 shuffle: true");
        again.DataLayer!.Seek(0);
        Assert.Equal(pass, Enumerable.Range(0, 3).SelectMany(_ => Next(again).Labels));
    }

    [Fact]
    public void DoubleAndIntegerDatasetsAreReadAsFloats()
    {
        new H5File
        {
            ["data"] = new H5Dataset(new[] { 0.5, 1.5, 2.5, 3.5 }, fileDims: [2, 2]),
            ["label"] = new H5Dataset(new byte[] { 7, 9 }, fileDims: [2, 1]),
        }.Write(dir.File("mixed.h5"));
        File.WriteAllText(dir.File("list.txt"), dir.File("mixed.h5"));
        var (data, labels) = Next(Build("batch_size: 3"));
        Assert.Equal([0.5f, 1.5f, 2.5f, 3.5f, 0.5f, 1.5f], data);
        Assert.Equal([7f, 9, 7], labels);
    }

    [Fact]
    public void ATinyNetLearnsFromHdf5Data()
    {
        // Two classes split by the sign of x0 + x1 − x2 (x3 is noise), 64 records in two files.
        var random = new Random(3);
        for (int f = 0; f < 2; f++)
        {
            var x = new float[32 * 4];
            var y = new float[32];
            for (int i = 0; i < 32; i++)
            {
                for (int k = 0; k < 4; k++) x[4 * i + k] = (float)(random.NextDouble() * 2 - 1);
                y[i] = x[4 * i] + x[4 * i + 1] - x[4 * i + 2] > 0 ? 1 : 0;
            }
            new H5File { ["data"] = new H5Dataset(x, fileDims: [32, 4]), ["label"] = new H5Dataset(y, fileDims: [32]) }.Write(dir.File($"train{f}.h5"));
        }
        File.WriteAllText(dir.File("list.txt"), "train0.h5\ntrain1.h5\n");
        var solver = Prototxt.Parse<SolverParameter>("base_lr: 0.5 momentum: 0.9 lr_policy: \"fixed\" max_iter: 40 random_seed: 5 snapshot_after_train: false");
        solver.NetParam = Prototxt.Parse<NetParameter>($$"""
            layer { name: "data" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "{{dir.File("list.txt")}}" batch_size: 16 shuffle: true } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.01 } } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """);
        var run = new CaffeSolver(solver);
        run.Solve();
        Assert.Equal(64, run.TrainNet.DataLayer!.DatasetSize);
        Assert.InRange(run.Losses[0], 0.6f, 0.8f);   // ln 2 at the start
        Assert.True(run.Losses.TakeLast(8).Average() < 0.35f, $"loss {run.Losses[0]} -> {run.Losses[^1]}");
    }
}
