using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Tests.Caffe.Solver;

public sealed class SolverTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "backprop-solver-" + Guid.NewGuid().ToString("N"));

    public SolverTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // A small net fed by DummyData: random images each iteration (seeded by iteration), labels 0..2.
    private const string Net = """
        name: "tiny"
        layer { name: "data" type: "DummyData" top: "data" top: "label"
          dummy_data_param { shape { dim: 8 dim: 1 dim: 6 dim: 6 } shape { dim: 8 }
                             data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 2 } } }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" param { lr_mult: 1 } param { lr_mult: 2 }
          convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "xavier" } } }
        layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
        layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """;

    private SolverParameter Solver(string type, int maxIter, int snapshot = 0, string extra = "", double? baseLr = null)
    {
        var p = Prototxt.Parse<SolverParameter>($"""
            base_lr: {baseLr ?? (type == "AdaDelta" ? 1.0 : 0.05)} momentum: 0.9 momentum2: 0.999 weight_decay: 0.0005 lr_policy: "inv" gamma: 0.0001 power: 0.75
            max_iter: {maxIter} snapshot: {snapshot} snapshot_prefix: "{Path.Combine(dir, "tiny")}" random_seed: 7 type: "{type}"
            snapshot_after_train: false {extra}
            """);
        p.NetParam = Prototxt.Parse<NetParameter>(Net);
        return p;
    }

    [Theory]
    [InlineData("SGD")]
    [InlineData("Nesterov")]
    [InlineData("Adam")]
    [InlineData("AdaDelta")]
    [InlineData("RMSProp")]
    [InlineData("AdaGrad")]
    public void SnapshotThenResumeRepeatsAnUninterruptedRunExactly(string type)
    {
        var straight = new CaffeSolver(Solver(type, 20));
        straight.Solve();

        var first = new CaffeSolver(Solver(type, 10, snapshot: 10));
        first.Solve();
        var resumed = new CaffeSolver(Solver(type, 20));
        resumed.Restore(Path.Combine(dir, "tiny_iter_10.solverstate"));
        Assert.Equal(10, resumed.Iteration);
        resumed.Solve();

        Assert.Equal(straight.Losses.Take(10), first.Losses);
        Assert.Equal(straight.Losses.Skip(10), resumed.Losses);
        Assert.True(straight.Losses[^1] < straight.Losses[0], "the tiny net should learn");
        Assert.Equal(straight.TrainNet.Parameters.SelectMany(p => p.ToArray()), resumed.TrainNet.Parameters.SelectMany(p => p.ToArray()));
    }

    [Fact]
    public void StepTimeCountsTheIterationsOnly()
    {
        var solver = new CaffeSolver(Solver("SGD", 3));
        Assert.Equal(TimeSpan.Zero, solver.StepTime);
        solver.Step(out _);
        var one = solver.StepTime;
        Assert.True(one > TimeSpan.Zero);
        solver.Snapshot();   // not an iteration
        Assert.Equal(one, solver.StepTime);
        solver.Solve();
        Assert.True(solver.StepTime > one);
    }

    [Fact]
    public void SnapshotsAreCaffeModelsThatLoadBack()
    {
        var solver = new CaffeSolver(Solver("SGD", 5, snapshot: 5));
        solver.Solve();
        string model = Path.Combine(dir, "tiny_iter_5.caffemodel");
        Assert.True(File.Exists(model));
        Assert.False(File.Exists(model + ".tmp"));
        var proto = Snapshots.ReadModel(model);
        Assert.Equal(["data", "conv", "relu", "pool", "ip", "loss"], proto.Layer.Select(l => l.Name));
        Assert.Equal([4L, 1, 3, 3], proto.Layer[1].Blobs[0].Shape.Dim);
        Assert.Equal(solver.TrainNet.Layers[1].Blobs[0].ToArray(), proto.Layer[1].Blobs[0].Data);

        var fresh = new CaffeSolver(Solver("SGD", 5));
        fresh.LoadWeights(model);
        Assert.Equal(solver.TrainNet.Parameters.SelectMany(p => p.ToArray()), fresh.TrainNet.Parameters.SelectMany(p => p.ToArray()));
        var state = Snapshots.ReadState(Path.Combine(dir, "tiny_iter_5.solverstate"));
        Assert.Equal(5, state.Iter);
        Assert.Equal(4, state.History.Count);   // one momentum blob per parameter
    }

    [Theory]
    [InlineData("fixed", "", new[] { 0, 1000, 9999 }, new[] { 0.01, 0.01, 0.01 })]
    [InlineData("step", "gamma: 0.1 stepsize: 100", new[] { 0, 99, 100, 250 }, new[] { 0.01, 0.01, 0.001, 0.0001 })]
    [InlineData("exp", "gamma: 0.99", new[] { 0, 10 }, new[] { 0.01, 0.009043820750088045 })]
    [InlineData("inv", "gamma: 0.0001 power: 0.75", new[] { 0, 100, 10000 }, new[] { 0.01, 0.009925650290240804, 0.005946035575013605 })]
    [InlineData("multistep", "gamma: 0.5 stepvalue: 10 stepvalue: 30", new[] { 9, 10, 29, 30, 100 }, new[] { 0.01, 0.005, 0.005, 0.0025, 0.0025 })]
    [InlineData("poly", "power: 2 max_iter: 100", new[] { 0, 50, 100 }, new[] { 0.01, 0.0025, 0 })]
    [InlineData("sigmoid", "gamma: -0.1 stepsize: 50", new[] { 50, 0 }, new[] { 0.005, 0.009933071490757153 })]
    public void LearningRatePoliciesFollowCaffesFormulas(string policy, string extra, int[] iterations, double[] expected)
    {
        var p = Prototxt.Parse<SolverParameter>($"base_lr: 0.01 lr_policy: \"{policy}\" {extra}");
        var schedule = SolverSetup.CreateSchedule(p);
        for (int i = 0; i < iterations.Length; i++)
            Assert.Equal(expected[i], schedule.At(iterations[i]), 6);
    }

    [Fact]
    public void ADivergingLossNamesTheIteration()
    {
        var solver = new CaffeSolver(Solver("SGD", 50, baseLr: 1e30));
        var e = Assert.Throws<CaffeNetException>(() => solver.Solve());
        Assert.Contains("at iteration", e.Message);
    }

    [Fact]
    public void IterSizeAveragesGradientsOverSubBatches()
    {
        var solver = new CaffeSolver(Solver("SGD", 3, extra: "iter_size: 2"));
        solver.Solve();
        Assert.Equal(3, solver.Iteration);
        Assert.Equal(3, solver.Losses.Count);
    }

    [Fact]
    public void UnknownSolverTypeAndPolicyAreClearErrors()
    {
        Assert.Contains("'Rprop'", Assert.Throws<CaffeNetException>(() => new CaffeSolver(Solver("Rprop", 5))).Message);
        var p = Solver("SGD", 5);
        p.LrPolicy = "warp";
        Assert.Contains("'warp'", Assert.Throws<CaffeNetException>(() => new CaffeSolver(p)).Message);
    }
}
