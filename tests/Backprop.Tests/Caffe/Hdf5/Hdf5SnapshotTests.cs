using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.IO;
using PureHDF;

namespace Backprop.Tests.Caffe.Hdf5;

public sealed class Hdf5SnapshotTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private const string Net = """
        name: "tiny"
        layer { name: "data" type: "DummyData" top: "data" top: "label"
          dummy_data_param { shape { dim: 8 dim: 5 } shape { dim: 8 } data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
        layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" inner_product_param { num_output: 4 weight_filler { type: "xavier" } } }
        layer { name: "relu" type: "ReLU" bottom: "ip1" top: "ip1" }
        layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
        """;

    private SolverParameter Solver(string prefix, int maxIter, int snapshot, string format = "BINARYPROTO")
    {
        var p = Prototxt.Parse<SolverParameter>($"""
            base_lr: 0.05 momentum: 0.9 lr_policy: "multistep" gamma: 0.5 stepvalue: 3 stepvalue: 7 max_iter: {maxIter} snapshot: {snapshot}
            snapshot_prefix: "{dir.File(prefix)}" random_seed: 7 type: "Adam" snapshot_after_train: false snapshot_format: {format}
            """);
        p.NetParam = Prototxt.Parse<NetParameter>(Net);
        return p;
    }

    private static float[] Weights(CaffeSolver s) => s.TrainNet.Parameters.SelectMany(p => p.ToArray()).ToArray();

    [Fact]
    public void Hdf5SnapshotsResumeExactlyAsTheBinaryOnesDo()
    {
        var straight = new CaffeSolver(Solver("straight", 10, 0));
        straight.Solve();
        var binary = new CaffeSolver(Solver("bin", 5, 5));
        binary.Solve();
        var hdf5 = new CaffeSolver(Solver("h5", 5, 5, "HDF5"));
        hdf5.Solve();
        Assert.True(File.Exists(dir.File("h5_iter_5.caffemodel.h5")));
        Assert.True(File.Exists(dir.File("h5_iter_5.solverstate.h5")));
        Assert.False(File.Exists(dir.File("h5_iter_5.caffemodel")));

        var fromBinary = new CaffeSolver(Solver("bin", 10, 0));
        fromBinary.Restore(dir.File("bin_iter_5.solverstate"));
        fromBinary.Solve();
        var fromHdf5 = new CaffeSolver(Solver("h5", 10, 0));
        fromHdf5.Restore(dir.File("h5_iter_5.solverstate.h5"));
        Assert.Equal(5, fromHdf5.Iteration);
        fromHdf5.Solve();

        Assert.Equal(Weights(straight), Weights(fromBinary));
        Assert.Equal(Weights(straight), Weights(fromHdf5));
        Assert.Equal(straight.Losses.Skip(5), fromHdf5.Losses);

        // --weights from a .caffemodel.h5 loads what the .caffemodel of the same iteration holds.
        var a = new CaffeSolver(Solver("x", 1, 0));
        a.LoadWeights(dir.File("bin_iter_5.caffemodel"));
        var b = new CaffeSolver(Solver("x", 1, 0));
        b.LoadWeights(dir.File("h5_iter_5.caffemodel.h5"));
        Assert.Equal(Weights(a), Weights(b));
        Assert.Equal(Weights(hdf5), Weights(b));
    }

    [Fact]
    public void FilesHaveCaffesLayout()
    {
        var solver = new CaffeSolver(Solver("lay", 4, 4, "HDF5"));
        solver.Solve();
        string model = dir.File("lay_iter_4.caffemodel.h5");
        using (var h5 = H5File.OpenRead(model))
        {
            var data = h5.Group("data");
            Assert.Equal(["data", "ip1", "ip2", "loss", "relu"], data.Children().Select(c => c.Name).Order());
            Assert.Equal([4UL, 5], data.Group("ip1").Dataset("0").Space.Dimensions);
            Assert.Equal([4UL], data.Group("ip1").Dataset("1").Space.Dimensions);
            Assert.Equal(solver.TrainNet.Layers.First(l => l.Name == "ip2").Blobs[0].ToArray(), data.Group("ip2").Dataset("0").Read<float[]>());
            Assert.Empty(data.Group("relu").Children());
            Assert.False(h5.LinkExists("diff"));
        }
        using (var h5 = H5File.OpenRead(dir.File("lay_iter_4.solverstate.h5")))
        {
            Assert.Equal([4], h5.Dataset("iter").Read<int[]>());
            Assert.Equal(H5DataTypeClass.String, h5.Dataset("learned_net").Type.Class);   // fixed-length, as H5LTmake_dataset_string
            Assert.Equal(model, h5.Dataset("learned_net").Read<string>());
            Assert.Equal([1], h5.Dataset("current_step").Read<int[]>());   // one stepvalue (3) passed
            var history = h5.Group("history");
            Assert.Equal(8, history.Children().Count());   // Adam: m and v for 4 parameters
            Assert.Equal([4UL, 5], history.Dataset("0").Space.Dimensions);
            Assert.Equal(solver.Optimizer.State(solver.TrainNet.Parameters[0]).Buffers[0], history.Dataset("0").Read<float[]>());
        }
    }

    [Fact]
    public void SnapshotDiffWritesTheGradientsUnderDiff()
    {
        var p = Solver("diff", 2, 2, "HDF5");
        p.SnapshotDiff = true;
        var solver = new CaffeSolver(p);
        solver.Solve();
        using var h5 = H5File.OpenRead(dir.File("diff_iter_2.caffemodel.h5"));
        var grad = solver.TrainNet.Layers.First(l => l.Name == "ip1").Blobs[0].Grad!.ToArray();
        Assert.Contains(grad, g => g != 0);
        Assert.Equal(grad, h5.Group("diff").Group("ip1").Dataset("0").Read<float[]>());
    }

    [Fact]
    public void TheNewestCompleteHdf5PairIsFoundAndItsLeftoversRemoved()
    {
        new CaffeSolver(Solver("pair", 6, 3, "HDF5")).Solve();
        File.Delete(dir.File("pair_iter_6.solverstate.h5"));   // as if interrupted between the two renames
        var newest = SnapshotPair.NewestComplete(dir.File("pair"));
        Assert.NotNull(newest);
        Assert.Equal(3, newest.Value.Iteration);
        Assert.Equal(dir.File("pair_iter_3.caffemodel.h5"), newest.Value.Model);
        string message = SnapshotPair.DescribeMissingState(dir.File("pair_iter_6.solverstate.h5"));
        Assert.Contains("pair_iter_6.caffemodel.h5 exists without it", message);

        string leftover = dir.File(".pair_iter_9.caffemodel.h5.abcdefghijkl.tmp");
        File.WriteAllText(leftover, "partial");
        Assert.Equal([leftover], SnapshotPair.RemoveLeftovers(dir.File("pair")));
    }
}
