using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.IO;

namespace Backprop.Tests.Caffe.Solver;

/// <summary>Snapshots under faults: a full disk, leftovers of killed runs, unwritable folders, interrupted pairs, stop and snapshot requests.</summary>
public sealed class SnapshotSafetyTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private const string Net = """
        name: "tiny"
        layer { name: "data" type: "DummyData" top: "data" top: "label"
          dummy_data_param { shape { dim: 4 dim: 1 dim: 4 dim: 4 } shape { dim: 4 }
                             data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """;

    private SolverParameter Definition(int maxIter, int snapshot = 0, string? prefix = null, string extra = "")
    {
        var p = Prototxt.Parse<SolverParameter>($"""
            base_lr: 0.05 momentum: 0.9 lr_policy: "fixed" max_iter: {maxIter} snapshot: {snapshot}
            snapshot_prefix: "{prefix ?? dir.File("tiny")}" random_seed: 3 snapshot_after_train: false {extra}
            """);
        p.NetParam = Prototxt.Parse<NetParameter>(Net);
        return p;
    }

    private string[] Names() => Directory.GetFileSystemEntries(dir.Path).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray();

    [Theory]
    [InlineData(0)]   // the model's temporary file fills the disk
    [InlineData(1)]   // the model is complete, the state's temporary file fills the disk
    public void AFullDiskLeavesNoNewFilesAndThePreviousPairIntact(int failingFile)
    {
        var solver = new CaffeSolver(Definition(4, snapshot: 2));
        solver.Solve(stopAt: 2);
        var before = Names();
        var previousModel = File.ReadAllBytes(dir.File("tiny_iter_2.caffemodel"));
        solver.Step(out _);
        int opened = 0;
        solver.SnapshotStreamFilter = s => opened++ == failingFile ? new DiskFullStream(s, bytesLeft: 20) : s;
        var e = Assert.Throws<IOException>(() => solver.Snapshot());
        Assert.Contains("No space", e.Message);
        Assert.Equal(before, Names());
        Assert.Equal(previousModel, File.ReadAllBytes(dir.File("tiny_iter_2.caffemodel")));
        var resumed = new CaffeSolver(Definition(4));
        resumed.Restore(dir.File("tiny_iter_2.solverstate"));
        Assert.Equal(2, resumed.Iteration);
    }

    [Fact]
    public void LeftoverTemporaryFilesOfThePrefixAreRemovedAtStartAndOthersKept()
    {
        string[] leftovers = [".tiny_iter_5.caffemodel.abcdefghij12.tmp", ".tiny_iter_5.solverstate.0123456789ab.tmp", "tiny_iter_5.caffemodel.tmp"];
        string[] others = [".other_iter_5.caffemodel.abcdefghij12.tmp", ".tiny_iter_5.caffemodel.short.tmp", "notes.tmp", "tiny_iter_5.caffemodel"];
        foreach (var name in leftovers.Concat(others)) File.WriteAllText(dir.File(name), "x");
        var log = new StringWriter();
        new CaffeSolver(Definition(1, snapshot: 5), log: log).Solve();
        Assert.Equal(others.Order(StringComparer.Ordinal), Names());
        foreach (var name in leftovers) Assert.Contains(name, log.ToString());
    }

    [Fact]
    public void AFolderThatCannotBeWrittenFailsBeforeTheFirstIteration()
    {
        // A path under a file fails for every user, root included.
        File.WriteAllText(dir.File("plain"), "x");
        var solver = new CaffeSolver(Definition(5, snapshot: 5, prefix: Path.Combine(dir.File("plain"), "snaps", "tiny")));
        var e = Assert.Throws<CaffeNetException>(() => solver.Solve());
        Assert.Contains(dir.File("plain"), e.Message);
        Assert.Equal(0, solver.Iteration);

        // A read-only folder, where chmod binds (not for root, who may write anyway).
        if (OperatingSystem.IsWindows() || Environment.UserName == "root") return;
        string locked = dir.File("locked");
        Directory.CreateDirectory(locked);
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var readOnly = new CaffeSolver(Definition(5, snapshot: 5, prefix: Path.Combine(locked, "tiny")));
            Assert.Contains(locked, Assert.Throws<CaffeNetException>(() => readOnly.Solve()).Message);
            Assert.Equal(0, readOnly.Iteration);
        }
        finally { File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
    }

    [Fact]
    public void ResumingAModelOnlyIterationSaysSoAndNamesTheNewestCompletePair()
    {
        var solver = new CaffeSolver(Definition(4, snapshot: 2));
        solver.Solve();
        // As a kill between the two renames leaves it: iteration 6's model without its state.
        File.Copy(dir.File("tiny_iter_4.caffemodel"), dir.File("tiny_iter_6.caffemodel"));
        var e = Assert.Throws<CaffeNetException>(() => new CaffeSolver(Definition(8)).Restore(dir.File("tiny_iter_6.solverstate")));
        Assert.Contains("tiny_iter_6.caffemodel exists without it", e.Message);
        Assert.Contains(dir.File("tiny_iter_4.solverstate") + " (iteration 4)", e.Message);
        Assert.Equal(4, SnapshotPair.NewestComplete(dir.File("tiny"))!.Value.Iteration);
    }

    [Fact]
    public void ASnapshotRequestSnapshotsAndGoesOnAndAStopSnapshotsAndEnds()
    {
        var log = new StringWriter();
        var solver = new CaffeSolver(Definition(100), log: log);
        solver.ActionRequested = () => solver.Iteration switch { 3 => SolverAction.Snapshot, 7 => SolverAction.Stop, _ => SolverAction.None };
        solver.Solve();
        Assert.True(solver.StoppedEarly);
        Assert.Equal(7, solver.Iteration);
        Assert.Contains("Optimization stopped early.", log.ToString());
        Assert.DoesNotContain("Optimization Done.", log.ToString());
        Assert.Equal(["tiny_iter_3.caffemodel", "tiny_iter_3.solverstate", "tiny_iter_7.caffemodel", "tiny_iter_7.solverstate"], Names());
        Assert.Equal(7, Snapshots.ReadState(dir.File("tiny_iter_7.solverstate")).Iter);
    }

    [Fact]
    public void AStopDuringATestPassEndsTheRunWithASnapshot()
    {
        var p = Definition(100, snapshot: 5, extra: "test_iter: 50 test_interval: 5 test_initialization: false");
        var log = new StringWriter();
        var solver = new CaffeSolver(p, log: log);
        int polls = 0;
        solver.ActionRequested = () => solver.Iteration == 5 && ++polls > 3 ? SolverAction.Stop : SolverAction.None;
        solver.Solve();
        Assert.Equal(5, solver.Iteration);
        Assert.Contains("Test interrupted.", log.ToString());
        Assert.Empty(solver.TestResults);
        Assert.Equal(["tiny_iter_5.caffemodel", "tiny_iter_5.solverstate"], Names());   // the regular snapshot, not a second one
    }

    [Fact]
    public void RequestsAreTakenOnceAndAStopStays()
    {
        var requests = new SolverActionRequests();
        Assert.Equal(SolverAction.None, requests.Take());
        requests.Request(SolverAction.Snapshot);
        requests.Request(SolverAction.Snapshot);
        Assert.Equal(SolverAction.Snapshot, requests.Take());
        Assert.Equal(SolverAction.None, requests.Take());
        requests.Request(SolverAction.Stop);
        Assert.Equal(SolverAction.Stop, requests.Take());
        Assert.Equal(SolverAction.Stop, requests.Take());
    }

    /// <summary>A stream that takes <c>bytesLeft</c> bytes, then fails as a full disk does.</summary>
    private sealed class DiskFullStream(Stream inner, int bytesLeft) : Stream
    {
        private int left = bytesLeft;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (count > left) throw new IOException("No space left on device");
            left -= count;
            inner.Write(buffer, offset, count);
        }
    }
}
