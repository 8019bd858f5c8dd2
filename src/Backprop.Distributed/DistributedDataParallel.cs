using System.Text;
using Backprop.Nn;

namespace Backprop.Distributed;

/// <summary>
/// Trains one <see cref="Module"/> data-parallel over the ranks of an MPI job, as PyTorch's
/// <c>DistributedDataParallel</c>: each rank runs the same model on its own part of the data and, after backward,
/// every gradient holds the average over the ranks, so the same optimizer step keeps the ranks' weights identical.
/// </summary>
/// <remarks>
/// <para>At construction rank 0's parameters and buffers (e.g. batch normalization's running statistics) are copied
/// to every rank, and the ranks' parameter names and shapes are compared (<see cref="SetupCheck"/>): a rank that built
/// a different model is refused with a message naming it. Every rank must construct it at the same point.</para>
/// <para>Gradients travel in buckets of about <c>bucketBytes</c>, filled from the last parameter (the first whose
/// gradient backward produces). With <c>overlap</c> (the default) a bucket is sent (MPI_Iallreduce) as soon as
/// backward has finished all its gradients, while backward goes on with earlier layers, and the last gradient
/// completes the average before <c>Backward()</c> returns. Without overlap, call <see cref="FinishGradientSync"/>
/// after backward: it averages every bucket in turn (blocking). Calling <see cref="FinishGradientSync"/> before
/// the optimizer step is always right: it does nothing when the average is complete, and it sends the buckets whose
/// parameters got no gradient this step (counting those as zero).</para>
/// <para>In training mode each forward also copies rank 0's buffers to every rank (PyTorch's
/// <c>broadcast_buffers</c>), so running statistics stay identical.</para>
/// </remarks>
public sealed class DistributedDataParallel : Module, IDisposable
{
    private readonly Module module;
    private readonly Communicator communicator;
    private readonly GradientSync sync;

    /// <param name="module">The model; every rank passes one of the same architecture.</param>
    /// <param name="communicator">The job (<see cref="Communicator.Initialize"/>).</param>
    /// <param name="bucketBytes">Gradient bytes per all-reduce (PyTorch's default 25 MB).</param>
    /// <param name="overlap">Send each bucket during backward as soon as it is complete; false averages after backward.</param>
    /// <param name="broadcastBuffers">Copy rank 0's buffers to every rank at each training forward.</param>
    public DistributedDataParallel(Module module, Communicator communicator, int bucketBytes = GradientAverager.DefaultBucketBytes,
        bool overlap = true, bool broadcastBuffers = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(communicator);
        this.module = RegisterModule("module", module);
        this.communicator = communicator;
        BroadcastBuffers = broadcastBuffers;
        SetupCheck.Verify(communicator, "model", Describe(module, out string summary), summary);
        CopyFromRoot(module.Parameters());
        CopyFromRoot(module.NamedBuffers().Select(b => b.Value));
        sync = new GradientSync(communicator, module.Parameters(), bucketBytes, overlap);
    }

    /// <summary>The wrapped model.</summary>
    public Module Module => module;

    /// <summary>The job the gradients are averaged over.</summary>
    public Communicator Communicator => communicator;

    /// <summary>Whether buckets are sent during backward.</summary>
    public bool Overlap => sync.Overlap;

    /// <summary>Whether each training forward copies rank 0's buffers to every rank.</summary>
    public bool BroadcastBuffers { get; }

    /// <summary>How many all-reduces one step sends.</summary>
    public int BucketCount => sync.BucketCount;

    /// <summary>Time this rank spent in the gradient all-reduces so far.</summary>
    public TimeSpan CommunicationTime => sync.CommunicationTime;

    /// <summary>Runs the wrapped model. Throws when the previous step's gradients were left half-averaged.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (sync.InProgress)
            throw new InvalidOperationException(
                "The previous backward pass's gradients were not all averaged across the ranks: some parameters got no gradient. " +
                "Call FinishGradientSync() after Backward() and before the optimizer step.");
        if (IsTraining && BroadcastBuffers) CopyFromRoot(module.NamedBuffers().Select(b => b.Value));
        return module.Forward(input);
    }

    /// <summary>
    /// Completes the average of every gradient across the ranks: sends the buckets not yet sent, waits for all and
    /// writes the averages into the gradients. Call it after backward and before the optimizer step (every rank).
    /// </summary>
    public void FinishGradientSync() => sync.Finish();

    /// <summary>Copies rank 0's buffers (e.g. running statistics) to every rank; for callers that run the wrapped
    /// model directly rather than through <see cref="Forward"/>.</summary>
    public void CopyBuffersFromRoot() => CopyFromRoot(module.NamedBuffers().Select(b => b.Value));

    /// <summary>
    /// Checks that every rank holds bit-identical parameters and buffers (a SHA-256 of their bytes, compared across
    /// ranks); throws <see cref="MpiException"/> naming the ranks that drifted. Every rank must call it.
    /// </summary>
    public void VerifyInSync()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var t in module.Parameters().Cast<Tensor>().Concat(module.NamedBuffers().Select(b => b.Value)))
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.AsSpan()));
        string digest = Convert.ToHexString(hash.GetHashAndReset());
        if (SetupCheck.Differences(communicator, digest, $"weights SHA-256 {digest[..16]}...") is { } ranks)
            throw new MpiException($"The ranks' weights are no longer identical: {ranks}.");
    }

    /// <summary>Removes the gradient hooks from the parameters (the model can then be trained alone again).</summary>
    public void Dispose() => sync.Dispose();

    protected override string ExtraDescription() => $"ranks={communicator.Size}, buckets={BucketCount}, overlap={Overlap}";

    private void CopyFromRoot(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors) communicator.Broadcast(t.AsSpan());
    }

    private static string Describe(Module module, out string summary)
    {
        var text = new StringBuilder();
        foreach (var (name, p) in module.NamedParameters()) text.Append(name).Append(' ').Append(p.Shape).Append(p.RequiresGrad ? "" : " frozen").Append('\n');
        foreach (var (name, b) in module.NamedBuffers()) text.Append(name).Append(' ').Append(b.Shape).Append(" buffer\n");
        var parameters = module.Parameters().ToList();
        summary = $"{parameters.Count} parameter tensors, {parameters.Sum(p => (long)p.Length)} values ({module.GetType().Name})";
        return text.ToString();
    }
}
