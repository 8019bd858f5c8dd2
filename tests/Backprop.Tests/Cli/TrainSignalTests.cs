using System.Globalization;
using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

/// <summary>Signals sent to a real <c>backprop train</c> process, as Ctrl-C, <c>kill</c> and a closed terminal send them.</summary>
public sealed class TrainSignalTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private const string Net = """
        name: "tiny"
        layer { name: "data" type: "DummyData" top: "data" top: "label"
          dummy_data_param { shape { dim: 16 dim: 1 dim: 8 dim: 8 } shape { dim: 16 }
                             data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """;

    // Runs (nearly) forever, logging every iteration; snapshots only when asked.
    private string WriteSolver(string net = Net)
    {
        File.WriteAllText(dir.File("tiny.prototxt"), net);
        string solver = dir.File("tiny_solver.prototxt");
        File.WriteAllText(solver, $"""
            net: "{dir.File("tiny.prototxt")}" base_lr: 0.01 momentum: 0.9 lr_policy: "fixed"
            max_iter: 100000000 display: 1 snapshot: 0 snapshot_prefix: "{dir.File("tiny")}" random_seed: 1
            """);
        return solver;
    }

    private CaffeSolver Solver()
    {
        var p = Prototxt.ParseFile<SolverParameter>(dir.File("tiny_solver.prototxt"));
        return new CaffeSolver(p, dir.File("tiny_solver.prototxt"));
    }

    private static int Trained(string output) =>
        int.Parse(System.Text.RegularExpressions.Regex.Match(output, @"Trained (\d+) iterations").Groups[1].Value, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(CliProcess.SigInt)]
    [InlineData(CliProcess.SigTerm)]
    public void AnInterruptFinishesTheIterationSnapshotsWritesTheLogAndExitsZero(int signal)
    {
        if (OperatingSystem.IsWindows()) return;
        using var train = new CliProcess("train", "--solver", WriteSolver());
        train.WaitFor(@"^Iteration 5 ");
        train.Signal(signal);
        Assert.Equal(0, train.WaitForExit());
        string output = train.Output;
        Assert.Contains("Optimization stopped early.", output);
        int iterations = Trained(output);
        Assert.True(iterations > 5, output);

        string state = dir.File($"tiny_iter_{iterations}.solverstate");
        var resumed = Solver();
        resumed.Restore(state);   // the snapshot of the current iteration loads
        Assert.Equal(iterations, resumed.Iteration);
        var csv = File.ReadAllLines(dir.File("tiny_log.csv"));
        Assert.Equal(iterations, csv.Count(l => char.IsDigit(l[0])));
        Assert.True(File.Exists(dir.File("tiny_curves.png")));
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void ASecondInterruptWhileStoppingQuitsAtOnce()
    {
        if (OperatingSystem.IsWindows()) return;
        // Iterations of a tenth of a second or more, so the second signal arrives while the first stop is pending.
        string slow = Net.Replace("dim: 16 dim: 1 dim: 8 dim: 8", "dim: 64 dim: 1 dim: 64 dim: 64").Replace("shape { dim: 16 }", "shape { dim: 64 }").Replace("num_output: 3", "num_output: 512");
        using var train = new CliProcess("train", "--solver", WriteSolver(slow));
        train.WaitFor(@"^Iteration 2 ");
        train.Signal(CliProcess.SigInt);
        train.WaitFor("Received SIGINT: stopping");
        train.Signal(CliProcess.SigInt);
        Assert.Equal(128 + CliProcess.SigInt, train.WaitForExit());
        Assert.DoesNotContain("Optimization stopped early.", train.Output);
    }

    [Fact]
    public void AHangUpSnapshotsAndTrainingGoesOn()
    {
        if (OperatingSystem.IsWindows()) return;
        using var train = new CliProcess("train", "--solver", WriteSolver());
        train.WaitFor(@"^Iteration 3 ");
        train.Signal(CliProcess.SigHup);
        int snapshotAt = int.Parse(train.WaitFor(@"Snapshotting to binary proto file .*_iter_(\d+)\.caffemodel").Groups[1].Value, CultureInfo.InvariantCulture);
        train.WaitFor($@"^Iteration {snapshotAt + 3} ");   // still training
        train.Signal(CliProcess.SigInt);
        Assert.Equal(0, train.WaitForExit());
        Assert.True(Trained(train.Output) > snapshotAt + 3);
        Assert.Equal(snapshotAt, Snapshots.ReadState(dir.File($"tiny_iter_{snapshotAt}.solverstate")).Iter);
        Assert.True(File.Exists(dir.File($"tiny_iter_{snapshotAt}.caffemodel")));
    }

    [Fact]
    public void WithSigintEffectNoneAnInterruptIsIgnored()
    {
        if (OperatingSystem.IsWindows()) return;
        using var train = new CliProcess("train", "--solver", WriteSolver(), "--sigint-effect", "none", "--sighup-effect", "stop");
        train.WaitFor(@"^Iteration 3 ");
        train.Signal(CliProcess.SigInt);
        train.WaitFor(@"^Iteration 30 ");
        train.Signal(CliProcess.SigHup);
        Assert.Equal(0, train.WaitForExit());
        Assert.True(Trained(train.Output) >= 30);
        Assert.Contains("Optimization stopped early.", train.Output);
    }

    [Fact]
    public void AnUnknownEffectIsRefused()
    {
        using var train = new CliProcess("train", "--solver", WriteSolver(), "--sigint-effect", "explode");
        Assert.NotEqual(0, train.WaitForExit());
        Assert.Contains("explode", train.Output);
    }
}
