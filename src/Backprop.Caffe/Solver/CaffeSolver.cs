using System.Diagnostics;
using System.Globalization;
using Backprop.Caffe.Proto;
using Backprop.Distributed;
using Backprop.IO;
using Backprop.Optim;
using static System.FormattableString;

namespace Backprop.Caffe;

/// <summary>Progress of a solver run, for progress bars.</summary>
public readonly record struct SolverProgress(int Iteration, int MaxIterations, float SmoothedLoss);

/// <summary>
/// Caffe's Solver: trains the TRAIN-phase net with the solver's optimizer and learning-rate policy, tests the
/// TEST nets every test_interval iterations, logs like Caffe (and adds the epoch), snapshots .caffemodel and
/// .solverstate files, and resumes from them. Randomness depends only on random_seed and the iteration, and
/// data layers seek to where the iteration puts them, so a resumed run repeats an uninterrupted one exactly.
/// Given a communicator of several MPI ranks, it trains data-parallel (see <see cref="DataParallelTraining"/>).
/// </summary>
public sealed class CaffeSolver
{
    /// <summary>What is said when a solver or a command asks for a GPU.</summary>
    public const string CpuOnlyNote = "this build of Backprop runs on the CPU; GPU settings are ignored and the work runs on the CPU.";

    /// <summary>The seed used when the solver leaves random_seed at -1: runs are repeatable by default.</summary>
    public const ulong DefaultSeed = 1701;

    private readonly TextWriter log;
    private readonly IProgress<SolverProgress>? progress;
    private readonly LearningRateSchedule schedule;
    private readonly Queue<float> recentLosses = new();
    // Each iteration's activations and gradients reuse the previous iteration's memory, as Caffe's blobs do.
    private readonly TensorMemoryPool trainMemory = new(), testMemory = new();
    private readonly string? solverPath;
    private int lastSnapshot = -1;

    /// <param name="communicator">The MPI job to train in, data-parallel, when it has two or more ranks; rank 0 alone then
    /// writes <paramref name="log"/> and reports <paramref name="progress"/>, and the others are silent.</param>
    public CaffeSolver(SolverParameter definition, string? solverPath = null, TextWriter? log = null, IProgress<SolverProgress>? progress = null,
        Communicator? communicator = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        bool silent = communicator is { Size: > 1, IsRoot: false };
        this.solverPath = solverPath;
        this.log = silent ? TextWriter.Null : log ?? TextWriter.Null;
        this.progress = silent ? null : progress;
        // solver_type and inline V0/V1 nets, as Caffe upgrades them on load.
        Definition = definition = SolverUpgrade.Upgraded(definition, solverPath ?? "solver", Log);
        if (communicator is { Size: > 1 }) DataParallelTraining.VerifySolver(communicator, definition, solverPath);
        Seed = definition.RandomSeed >= 0 ? (ulong)definition.RandomSeed : DefaultSeed;
        if (definition.SolverMode == SolverParameter.Types.SolverMode.Gpu)
            Log($"solver_mode is GPU: {CpuOnlyNote}");
        if (definition.IterSize < 1) throw new CaffeNetException($"Solver: iter_size must be at least 1, got {definition.IterSize}.");

        var generator = new Generator(Seed);
        var (trainDef, trainSource) = TrainNetDefinition();
        var trainState = definition.TrainState?.Clone() ?? new NetState();
        trainState.Phase = Phase.Train;
        TrainNet = CaffeNet.Build(trainDef, trainState, generator, new NetContext(Phase.Train, Seed) { BaseDirectory = trainSource });
        TrainNet.DebugLog = Log;
        Log($"Created the TRAIN net '{TrainNet.Name}' from {trainSource}: {TrainNet.Layers.Count} layers, outputs {string.Join(", ", TrainNet.OutputNames)}.");

        var tests = TestNetDefinitions();
        if (tests.Count != definition.TestIter.Count)
            throw new CaffeNetException($"Solver: {tests.Count} test nets but {definition.TestIter.Count} test_iter values; give one test_iter per test net.");
        var testNets = new List<CaffeNet>();
        for (int i = 0; i < tests.Count; i++)
        {
            var state = i < definition.TestState.Count ? definition.TestState[i].Clone() : new NetState();
            state.Phase = Phase.Test;
            var net = CaffeNet.Build(tests[i].Definition, state, generator, new NetContext(Phase.Test, Seed) { BaseDirectory = tests[i].Source });
            net.ShareWeightsWith(TrainNet);
            (net.DebugInfo, net.DebugLog) = (definition.DebugInfo, Log);   // as Caffe: the solver's debug_info decides
            testNets.Add(net);
            Log($"Created TEST net #{i} '{net.Name}': {net.Layers.Count} layers, outputs {string.Join(", ", net.OutputNames)}.");
        }
        TestNets = testNets;
        Optimizer = SolverSetup.CreateOptimizer(definition, TrainNet.Parameters);
        schedule = SolverSetup.CreateSchedule(definition);
        if (communicator is { Size: > 1 })
        {
            DataParallel = new DataParallelTraining(communicator, this);
            Log(DataParallel.StartLine(this));
        }
    }

    /// <summary>The solver prototxt this solver was built from.</summary>
    public SolverParameter Definition { get; }
    /// <summary>The net built in the TRAIN phase, whose parameters the solver updates.</summary>
    public CaffeNet TrainNet { get; }
    /// <summary>The TEST-phase nets, one per <c>test_net</c>/<c>test_iter</c> entry, sharing the train net's weights.</summary>
    public IReadOnlyList<CaffeNet> TestNets { get; }
    /// <summary>The optimizer that <c>type</c> (SGD, Adam, ...) and the learning-rate policy describe.</summary>
    public Optimizer Optimizer { get; }
    /// <summary>The random seed in effect: the solver's <c>random_seed</c>, or the one drawn when it was absent.</summary>
    public ulong Seed { get; }

    /// <summary>The data-parallel job this solver trains in, or null when it trains alone.</summary>
    public DataParallelTraining? DataParallel { get; }

    /// <summary>The number of ranks training together (1 without MPI).</summary>
    public int Ranks => DataParallel?.Size ?? 1;

    /// <summary>Time spent averaging across ranks inside <see cref="Step"/> (zero without MPI); part of <see cref="StepTime"/>.</summary>
    public TimeSpan AllreduceTime => DataParallel?.AllreduceTime ?? TimeSpan.Zero;

    private bool IsRoot => DataParallel?.IsRoot ?? true;

    /// <summary>Iterations completed.</summary>
    public int Iteration { get; private set; }

    /// <summary>
    /// Polled once per iteration (and between test batches) for a requested action, as Caffe's solver polls its signal
    /// handler: <see cref="SolverAction.Stop"/> ends <see cref="Solve"/> after a snapshot of the current iteration,
    /// <see cref="SolverAction.Snapshot"/> snapshots and goes on. Set it to <see cref="SolverActionRequests.Take"/>.
    /// </summary>
    public Func<SolverAction>? ActionRequested { get; set; }

    /// <summary>True when the last <see cref="Solve"/> ended on a <see cref="SolverAction.Stop"/> request.</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>The snapshot prefix: snapshot_prefix, else the solver file's path without its extension, else "backprop".</summary>
    public string SnapshotPrefix => Definition.HasSnapshotPrefix ? Definition.SnapshotPrefix
        : solverPath is not null ? Path.ChangeExtension(solverPath, null) : "backprop";

    // Tests only: wraps the snapshot files' streams (e.g. to fail as a full disk does).
    internal Func<Stream, Stream>? SnapshotStreamFilter { get; set; }

    /// <summary>
    /// Time spent inside <see cref="Step"/> in this process (data, forward, backward, update): the training time
    /// without building the nets, test passes, logging or snapshots, as PyTorch training scripts usually time it.
    /// </summary>
    public TimeSpan StepTime { get; private set; }

    /// <summary>The loss of every iteration run so far in this process (mean over iter_size), in order.</summary>
    public List<float> Losses { get; } = [];

    /// <summary>Test results of every test pass so far: iteration, net index, and output name/value pairs.</summary>
    public List<(int Iteration, int Net, IReadOnlyList<(string Name, float Value)> Outputs)> TestResults { get; } = [];

    /// <summary>Epochs completed at <paramref name="iteration"/>: iterations × batch × iter_size × ranks / training-set size.</summary>
    public double EpochAt(int iteration)
    {
        var data = TrainNet.DataLayer;
        return data is null || data.DatasetSize == 0 ? 0 : (double)iteration * data.BatchSize * Definition.IterSize * Ranks / data.DatasetSize;
    }

    /// <summary>Runs until max_iter (or <paramref name="stopAt"/>), testing, logging and snapshotting as the solver says.</summary>
    public void Solve(int? stopAt = null)
    {
        int stop = stopAt ?? Definition.MaxIter;
        StoppedEarly = false;
        if (DataParallel is not null) Iteration = DataParallel.Synchronize(this);
        if (IsRoot && (Definition.Snapshot > 0 || Definition.SnapshotAfterTrain || ActionRequested is not null)) PrepareSnapshotFolder();
        Log(Invariant($"Solving {TrainNet.Name} with {SolverSetup.SolverType(Definition)}, lr_policy {(Definition.HasLrPolicy ? Definition.LrPolicy : "fixed")}, seed {Seed}, {stop - Iteration} iterations from {Iteration}."));
        var clock = Stopwatch.StartNew();
        int lastDisplay = Iteration;
        while (Iteration < stop && !StoppedEarly)
        {
            if (Definition.TestInterval > 0 && Iteration % Definition.TestInterval == 0 && (Iteration > 0 || Definition.TestInitialization))
            {
                if (IsRoot) TestAll();
                if (DataParallel is not null) StoppedEarly = DataParallel.Agree(StoppedEarly ? SolverAction.Stop : SolverAction.None) == SolverAction.Stop;
                if (StoppedEarly) break;
                clock.Restart();   // the speed shown is training speed, without test passes
                lastDisplay = Iteration;
            }
            float loss = Step(out var outputs);
            if (Definition.Display > 0 && (Iteration - 1) % Definition.Display == 0)
            {
                double seconds = clock.Elapsed.TotalSeconds;
                int done = Iteration - lastDisplay;
                string speed = done > 0 && seconds > 0 ? Invariant($", {done / seconds:F1} iter/s") : "";
                Log(Invariant($"Iteration {Iteration - 1} (epoch {EpochAt(Iteration - 1):F2}{speed}), loss = {SmoothedLoss:G6}"));
                for (int i = 0; i < outputs.Count; i++) Log("    " + FormatOutput("Train net output", i, outputs[i].Name, outputs[i].Value, outputs[i].LossWeight));
                Log(Invariant($"Iteration {Iteration - 1}, lr = {schedule.At(Iteration - 1):G6}"));
                clock.Restart();
                lastDisplay = Iteration;
            }
            progress?.Report(new SolverProgress(Iteration, stop, SmoothedLoss));
            var request = ActionRequested?.Invoke() ?? SolverAction.None;
            if (DataParallel is not null) request = DataParallel.Agree(request);
            if (IsRoot && ((Definition.Snapshot > 0 && Iteration % Definition.Snapshot == 0) || request == SolverAction.Snapshot)) Snapshot();
            _ = loss;
            if (request == SolverAction.Stop) StoppedEarly = true;
        }
        if (StoppedEarly)
        {
            // Unlike Caffe, even with snapshot_after_train: false: a stop asked for by the user must not lose the work.
            if (IsRoot && lastSnapshot != Iteration) Snapshot();
            LogDataParallelSummary();
            Log("Optimization stopped early.");
            return;
        }
        if (IsRoot && Definition.SnapshotAfterTrain && (Definition.Snapshot == 0 || Iteration % Definition.Snapshot != 0)) Snapshot();
        if (IsRoot && Definition.TestInterval > 0 && Iteration % Definition.TestInterval == 0) TestAll();
        LogDataParallelSummary();
        Log("Optimization Done.");
    }

    // Every rank takes part (the weights comparison is a collective); rank 0 alone writes the lines.
    private void LogDataParallelSummary()
    {
        if (DataParallel is null) return;
        Log(DataParallel.CompareWeights(this));
        Log(DataParallel.SummaryLine(StepTime));
    }

    /// <summary>The loss averaged over the last average_loss iterations, as Caffe displays it.</summary>
    public float SmoothedLoss => recentLosses.Count == 0 ? float.NaN : recentLosses.Average();

    /// <summary>One iteration: iter_size forward/backward passes, clipping, then the update. Returns the mean loss.</summary>
    public float Step(out IReadOnlyList<(string Name, float Value, float LossWeight)> outputs)
    {
        long started = Stopwatch.GetTimestamp();
        int iterSize = Definition.IterSize;
        using var memory = trainMemory.Scope();
        foreach (var p in TrainNet.Parameters) p.ZeroGrad(setToNone: false);   // Caffe clears diffs in place
        double total = 0;
        outputs = [];
        var data = TrainNet.DataLayer;
        int rank = DataParallel?.Rank ?? 0, ranks = Ranks;
        TrainNet.DebugInfo = Definition.DebugInfo && Definition.Display > 0 && Iteration % Definition.Display == 0;
        for (int sub = 0; sub < iterSize; sub++)
        {
            // Pass p of rank r reads what rank r's share of one process's batch of ranks × batch_size would be, and
            // draws its own random numbers (dropout, crops) from the pass index it would have there.
            long pass = ((long)Iteration * iterSize + sub) * ranks + rank;
            data?.Seek(pass * data.BatchSize);
            var context = new NetContext(Phase.Train, Seed) { Iteration = (int)pass };
            var result = TrainNet.Forward(context);
            if (result.Loss is null) throw new CaffeNetException($"The TRAIN net '{TrainNet.Name}' has no loss to minimize (no loss layer or loss_weight).");
            float loss = result.Loss.Item();
            if (!float.IsFinite(loss))
                throw new CaffeNetException(Invariant($"The loss became {loss} at iteration {Iteration} (epoch {EpochAt(Iteration):F2}); lower base_lr or check the data. Snapshots written so far are intact."));
            TrainNet.Backward(result);
            total += loss;
            outputs = result.Outputs.Select(o => (o.Name, Mean(o.Value), o.LossWeight)).ToList();
        }
        DataParallel?.AverageGradients();   // as Caffe's P2PSync: before clipping, normalization, decay and the update
        if (Definition.ClipGradients >= 0) GradientClipping.ClipByGlobalNorm(TrainNet.Parameters, Definition.ClipGradients);
        if (iterSize > 1)
            foreach (var p in TrainNet.Parameters)
                if (p.Grad is not null) System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad.AsSpan(), 1f / iterSize, p.Grad.AsSpan());
        schedule.Apply(Optimizer, Iteration);
        Optimizer.Step();
        float mean = (float)(total / iterSize);
        if (DataParallel is not null) mean = DataParallel.AverageLoss(mean, ref outputs);
        Losses.Add(mean);
        recentLosses.Enqueue(mean);
        while (recentLosses.Count > Math.Max(1, Definition.AverageLoss)) recentLosses.Dequeue();
        Iteration++;
        StepTime += Stopwatch.GetElapsedTime(started);
        return mean;
    }

    /// <summary>Runs every test net for its test_iter batches, from the start of its data, and logs the mean outputs.</summary>
    public void TestAll()
    {
        for (int n = 0; n < TestNets.Count; n++)
        {
            Log(Invariant($"Iteration {Iteration} (epoch {EpochAt(Iteration):F2}), Testing net (#{n})"));
            var net = TestNets[n];
            int iterations = Definition.TestIter[n];
            var sums = new Dictionary<string, double>();
            var weights = new Dictionary<string, float>();
            using (Autograd.Autograd.NoGrad())
            {
                for (int i = 0; i < iterations; i++)
                {
                    if (TakeRequestsDuringTest())
                    {
                        Log("Test interrupted.");
                        return;
                    }
                    using var memory = testMemory.Scope();
                    net.DataLayer?.Seek((long)i * net.DataLayer.BatchSize);
                    var result = net.Forward(new NetContext(Phase.Test, Seed) { Iteration = i });
                    foreach (var o in result.Outputs)
                    {
                        sums[o.Name] = sums.GetValueOrDefault(o.Name) + Mean(o.Value);
                        weights[o.Name] = o.LossWeight;
                    }
                }
            }
            var means = net.OutputNames.Where(sums.ContainsKey).Select(name => (name, (float)(sums[name] / iterations))).ToList();
            for (int i = 0; i < means.Count; i++) Log("    " + FormatOutput("Test net output", i, means[i].name, means[i].Item2, weights[means[i].name]));
            TestResults.Add((Iteration, n, means));
        }
    }

    // Caffe's test loop: snapshot requests are served, a stop ends the test pass (and then the run).
    private bool TakeRequestsDuringTest()
    {
        for (var request = ActionRequested?.Invoke() ?? SolverAction.None; request != SolverAction.None && !StoppedEarly;
             request = ActionRequested?.Invoke() ?? SolverAction.None)
        {
            if (request == SolverAction.Snapshot) Snapshot();
            else if (request == SolverAction.Stop) StoppedEarly = true;
        }
        return StoppedEarly;
    }

    private static float Mean(Tensor t) => t.Length == 1 ? t.AsSpan()[0] : t.Detach().Mean().Item();

    private static string FormatOutput(string what, int index, string name, float value, float weight) =>
        weight == 0 ? Invariant($"{what} #{index}: {name} = {value:G6}")
                    : Invariant($"{what} #{index}: {name} = {value:G6} (* {weight:G6} = {value * weight:G6} loss)");

    /// <summary>
    /// Writes <c>{prefix}_iter_{N}.caffemodel</c> and <c>.solverstate</c> (with snapshot_format: HDF5,
    /// <c>.caffemodel.h5</c> and <c>.solverstate.h5</c>) as a pair that appears together (see <see cref="SnapshotPair"/>).
    /// Returns both paths.
    /// </summary>
    public (string Model, string State) Snapshot()
    {
        bool hdf5 = Definition.SnapshotFormat == SolverParameter.Types.SnapshotFormat.Hdf5;
        string extension = hdf5 ? ".h5" : "";
        string model = $"{SnapshotPrefix}_iter_{Iteration.ToString(CultureInfo.InvariantCulture)}.caffemodel{extension}";
        string state = $"{SnapshotPrefix}_iter_{Iteration.ToString(CultureInfo.InvariantCulture)}.solverstate{extension}";
        var dir = Path.GetDirectoryName(Path.GetFullPath(model));
        if (dir is not null) Directory.CreateDirectory(dir);
        string format = hdf5 ? "HDF5" : "binary proto";
        Log($"Snapshotting to {format} file {model}");
        Log($"Snapshotting solver state to {format} file {state}");
        var solverState = Snapshots.StateOf(this, model);
        if (hdf5)
            SnapshotPair.Write(model, s => Hdf5.Hdf5Snapshots.WriteModel(s, TrainNet, Definition.SnapshotDiff),
                               state, s => Hdf5.Hdf5Snapshots.WriteState(s, solverState), SnapshotStreamFilter);
        else
            SnapshotPair.Write(model, TrainNet.ToProto(TrainNetDefinition(logUpgrade: false).Definition), state, solverState, SnapshotStreamFilter);
        lastSnapshot = Iteration;
        return (model, state);
    }

    /// <summary>
    /// Before training: makes the snapshot folder if needed and checks that files can be created there (Caffe's
    /// probe file), so a read-only folder fails now rather than at the first snapshot; removes temporary files
    /// that interrupted snapshots of this prefix left behind.
    /// </summary>
    public void PrepareSnapshotFolder()
    {
        string prefix = SnapshotPrefix;
        string directory = SnapshotPair.Split(prefix).Directory;
        try
        {
            Directory.CreateDirectory(directory);
            AtomicFile.ProbeWritable(directory);
            foreach (var leftover in SnapshotPair.RemoveLeftovers(prefix))
                Log($"Removed {leftover}, left by an interrupted snapshot.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CaffeNetException($"Cannot write snapshots to {directory} (snapshot_prefix '{prefix}'): {e.Message} Make sure the folder exists and is writable.", e);
        }
    }

    /// <summary>
    /// Resumes from a .solverstate (and the .caffemodel it names), or a .solverstate.h5 (and its .caffemodel.h5):
    /// iteration, weights and optimizer history.
    /// <paramref name="allowNonFiniteWeights"/> as in <see cref="LoadWeights"/>.
    /// </summary>
    public void Restore(string statePath, bool allowNonFiniteWeights = false)
    {
        if (!File.Exists(statePath)) throw new CaffeNetException(SnapshotPair.DescribeMissingState(statePath));
        var state = Snapshots.ReadState(statePath);
        string model = PathResolver.Resolve(state.LearnedNet, statePath);
        string besideState = Path.Combine(Path.GetDirectoryName(statePath) ?? ".", Path.GetFileName(state.LearnedNet));
        if (!File.Exists(model) && File.Exists(besideState)) model = besideState;
        if (!File.Exists(model))
            throw new CaffeNetException($"{statePath}: the weights it names (learned_net '{Cut(state.LearnedNet)}') were not found " +
                                        $"at {Cut(model)} nor beside the state at {Cut(besideState)}.");
        LoadWeights(model, allowNonFiniteWeights);
        Snapshots.RestoreHistory(state, this, statePath);
        Iteration = state.Iter;
        Log($"Restored iteration {Iteration} from {statePath} (weights from {model}).");
    }

    // A path read from a file, cut for a message (a hostile .solverstate can hold megabytes in learned_net).
    private static string Cut(string path) => path.Length <= 300 ? path : string.Concat(path.AsSpan(0, 300), $"… ({path.Length} characters)");

    /// <summary>
    /// Copies weights from a .caffemodel (or a .caffemodel.h5) into the layers of the same names (fine-tuning), logging each layer copied
    /// and warning for each learnable layer the file leaves out. NaN or infinite weights are refused unless
    /// <paramref name="allowNonFinite"/> (then logged as a warning).
    /// </summary>
    public void LoadWeights(string caffemodelPath, bool allowNonFinite = false)
    {
        var trained = Snapshots.ReadModel(caffemodelPath);
        int n = TrainNet.CopyTrainedLayersFrom(trained, caffemodelPath, new WeightLoading { Log = Log, AllowNonFinite = allowNonFinite });
        Log($"Copied weights of {n} layers from {caffemodelPath}.");
    }

    /// <param name="logUpgrade">Log the upgrade of an old-format net file (once, when the nets are built; not at every snapshot).</param>
    internal (NetParameter Definition, string Source) TrainNetDefinition(bool logUpgrade = true)
    {
        var p = Definition;
        int given = (p.HasNet ? 1 : 0) + (p.NetParam is not null ? 1 : 0) + (p.HasTrainNet ? 1 : 0) + (p.TrainNetParam is not null ? 1 : 0);
        if (given != 1) throw new CaffeNetException($"Solver: give exactly one of net, net_param, train_net, train_net_param (found {given}).");
        if (p.TrainNetParam is not null) return (p.TrainNetParam, "train_net_param");
        if (p.NetParam is not null) return (p.NetParam, "net_param");
        return LoadNet(p.HasNet ? p.Net : p.TrainNet, logUpgrade);
    }

    private List<(NetParameter Definition, string Source)> TestNetDefinitions()
    {
        var p = Definition;
        var list = new List<(NetParameter, string)>();
        list.AddRange(p.TestNetParam.Select(n => (n, "test_net_param")));
        list.AddRange(p.TestNet.Select(path => LoadNet(path)));
        if (list.Count == 0 && (p.HasNet || p.NetParam is not null))
        {
            // A single net file serves the TEST phase too: one test net per test_iter.
            var shared = p.NetParam is not null ? (p.NetParam, "net_param") : LoadNet(p.Net);
            for (int i = 0; i < p.TestIter.Count; i++) list.Add(shared);
        }
        return list;
    }

    private (NetParameter, string) LoadNet(string path, bool logUpgrade = true)
    {
        string resolved = PathResolver.Resolve(path, solverPath);
        if (!File.Exists(resolved))
            throw new CaffeNetException($"Solver{(solverPath is null ? "" : " " + solverPath)}: net file '{path}' was not found (looked in the working directory and beside the solver).");
        return (NetUpgrade.ReadTextFile(resolved, logUpgrade ? Log : null), resolved);
    }

    private void Log(string line) => log.WriteLine(line);
}
