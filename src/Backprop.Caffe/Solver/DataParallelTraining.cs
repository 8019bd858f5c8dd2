using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Backprop.Caffe.Proto;
using Backprop.Distributed;
using static System.FormattableString;

namespace Backprop.Caffe;

/// <summary>
/// The ranks of a data-parallel job were given different solvers or nets. Every rank detects it at start (the
/// digests are compared on all of them) and throws this same message, so the job ends cleanly, not by an abort.
/// </summary>
public sealed class DataParallelSetupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// What <see cref="CaffeSolver"/> does when it trains on several MPI ranks, as Caffe's multi-GPU training does
/// (P2PSync, later NCCL): every rank holds the whole net; rank r of N reads its own batch_size records of each pass,
/// so the N ranks together read the records one process with batch N × batch_size would; after backward the
/// gradients are averaged over the ranks (before clipping, weight decay and the update); rank 0's weights, optimizer
/// history and iteration are broadcast when solving starts (after building, restoring or fine-tuning), so every rank
/// applies the same update to the same weights and they stay identical. Rank 0 alone logs, tests and snapshots.
/// </summary>
public sealed class DataParallelTraining
{
    private readonly Communicator communicator;
    private readonly GradientSync gradients;
    private long allreduceTicks;

    internal DataParallelTraining(Communicator communicator, CaffeSolver solver)
    {
        this.communicator = communicator;
        var net = solver.TrainNet;
        var shapes = net.NamedParameters().Select(p => $"{p.Key} {p.Value.Shape}");
        var (definition, _) = solver.TrainNetDefinition(logUpgrade: false);
        Verify(communicator, "train net or parameter", definition + "\n" + string.Join("\n", shapes),
            Invariant($"{net.Parameters.Count} parameter blobs, {net.Parameters.Sum(p => (long)p.Length)} values, batch_size {net.DataLayer?.BatchSize ?? 0}"));
        // Buckets go out during backward (overlap) unless iter_size runs several backward passes per average.
        gradients = new GradientSync(communicator, net.Parameters, overlap: solver.Definition.IterSize == 1);
    }

    /// <summary>This process's rank.</summary>
    public int Rank => communicator.Rank;

    /// <summary>The number of ranks training together.</summary>
    public int Size => communicator.Size;

    /// <summary>True on rank 0, which logs, tests and snapshots.</summary>
    public bool IsRoot => communicator.IsRoot;

    /// <summary>The ranks and the MPI library, for logs.</summary>
    public string Description => communicator.Description;

    /// <summary>Time this rank spent in the per-iteration collectives (gradients and the loss), part of the step time.</summary>
    public TimeSpan AllreduceTime => Stopwatch.GetElapsedTime(0, allreduceTicks) + gradients.CommunicationTime;

    /// <summary>Refuses a job whose ranks read different solver files (before any net is built).</summary>
    internal static void VerifySolver(Communicator communicator, SolverParameter definition, string? solverPath)
    {
        string text = definition.ToString();
        string digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
        Verify(communicator, "solver", text, $"{solverPath ?? "an inline solver"} (digest {digest})");
    }

    private static void Verify(Communicator communicator, string what, string setup, string summary)
    {
        try
        {
            SetupCheck.Verify(communicator, what, setup, summary);
        }
        catch (MpiException e) when (e.ErrorCode == 0)
        {
            throw new DataParallelSetupException(e.Message, e);
        }
    }

    /// <summary>
    /// Gives every rank rank 0's iteration, weights (all parameter blobs, learnable or not) and optimizer history.
    /// Returns the iteration.
    /// </summary>
    internal int Synchronize(CaffeSolver solver)
    {
        var parameters = solver.TrainNet.Parameters;
        int[] iteration = [solver.Iteration];
        communicator.Broadcast(iteration);
        var steps = new int[parameters.Count];
        for (int i = 0; i < parameters.Count; i++)
        {
            communicator.Broadcast(parameters[i].AsSpan());
            var state = solver.Optimizer.State(parameters[i]);
            foreach (var buffer in state.Buffers) communicator.Broadcast(buffer);
            steps[i] = state.Step;
        }
        communicator.Broadcast(steps);
        for (int i = 0; i < parameters.Count; i++) solver.Optimizer.State(parameters[i]).Step = steps[i];
        return iteration[0];
    }

    /// <summary>Completes the average of the gradients over the ranks (the buckets backward has not sent already).</summary>
    internal void AverageGradients() => gradients.Finish();

    /// <summary>The mean over the ranks of this rank's loss and outputs, so rank 0 logs the whole batch's values.</summary>
    internal float AverageLoss(float loss, ref IReadOnlyList<(string Name, float Value, float LossWeight)> outputs)
    {
        long start = Stopwatch.GetTimestamp();
        var values = new double[1 + outputs.Count];
        values[0] = loss;
        for (int i = 0; i < outputs.Count; i++) values[i + 1] = outputs[i].Value;
        communicator.AllreduceSum(values);
        outputs = [.. outputs.Select((o, i) => (o.Name, (float)(values[i + 1] / Size), o.LossWeight))];
        allreduceTicks += Stopwatch.GetTimestamp() - start;
        return (float)(values[0] / Size);
    }

    /// <summary>
    /// The action all ranks take: each rank polls its own requests (signals reach every rank), and the strongest
    /// wins (stop, then snapshot), so no rank leaves the loop while the others wait for it.
    /// </summary>
    internal SolverAction Agree(SolverAction mine)
    {
        int[] rank = [mine switch { SolverAction.Stop => 2, SolverAction.Snapshot => 1, _ => 0 }];
        communicator.AllreduceMax(rank);
        return rank[0] switch { 2 => SolverAction.Stop, 1 => SolverAction.Snapshot, _ => SolverAction.None };
    }

    /// <summary>One line for the log at the start: ranks, MPI, and the effective batch.</summary>
    internal string StartLine(CaffeSolver solver)
    {
        int batch = solver.TrainNet.DataLayer?.BatchSize ?? 0, iterSize = solver.Definition.IterSize;
        string passes = iterSize > 1 ? Invariant($" x iter_size {iterSize} = {Size * batch * iterSize} per iteration") : "";
        return Invariant($"Data-parallel training on {Description}: each rank reads its own batch_size {batch} records, effective batch {Size} x {batch} = {Size * batch}{passes}.");
    }

    /// <summary>The line the benchmark parses: the all-reduce's share of the step time.</summary>
    internal string SummaryLine(TimeSpan stepTime)
    {
        double reduce = AllreduceTime.TotalSeconds, step = stepTime.TotalSeconds;
        return Invariant($"Data-parallel: {Size} ranks, all-reduce {reduce:F2} s of {step:F1} s step time ({(step > 0 ? 100 * reduce / step : 0):F1}%)");
    }

    /// <summary>
    /// Compares the learnable weights of every rank (a SHA-256 of their bytes, gathered) and returns the line for
    /// rank 0's log: identical, or which ranks differ.
    /// </summary>
    internal string CompareWeights(CaffeSolver solver)
    {
        byte[] mine = WeightsDigest(solver.TrainNet), all = new byte[mine.Length * Size];
        communicator.AllGather(mine, all);
        var differing = Enumerable.Range(1, Size - 1).Where(r => !all.AsSpan(r * mine.Length, mine.Length).SequenceEqual(mine)).ToList();
        string hex = Convert.ToHexStringLower(mine)[..16];
        return differing.Count == 0
            ? $"Final weights identical on all {Size} ranks (sha256 {hex})."
            : $"Warning: final weights of rank{(differing.Count > 1 ? "s" : "")} {string.Join(", ", differing)} differ from rank 0's (sha256 {hex}).";
    }

    /// <summary>SHA-256 of the learnable parameters' values, in the net's parameter order.</summary>
    internal static byte[] WeightsDigest(CaffeNet net)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in net.Parameters.Where(p => p.RequiresGrad))
            hash.AppendData(MemoryMarshal.AsBytes((ReadOnlySpan<float>)p.AsSpan()));
        return hash.GetHashAndReset();
    }
}
