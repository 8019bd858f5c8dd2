using System.Numerics.Tensors;

namespace Backprop.Distributed;

/// <summary>
/// Averages the gradients of a list of parameters across all ranks after backward: the parameters are grouped into
/// buckets of about <c>bucketBytes</c> (PyTorch DDP's default: 25 MB), each bucket's gradients are copied into one
/// buffer, summed over the ranks with one all-reduce, divided by the number of ranks and copied back. A parameter
/// without a gradient on this rank counts as a zero gradient (and gets one), so every rank sends the same buckets.
/// </summary>
public sealed class GradientAverager
{
    /// <summary>PyTorch DDP's default bucket size.</summary>
    public const int DefaultBucketBytes = 25 * 1024 * 1024;

    private readonly Communicator communicator;
    private readonly Tensor[][] buckets;
    private readonly float[][] buffers;

    public GradientAverager(Communicator communicator, IEnumerable<Tensor> parameters, int bucketBytes = DefaultBucketBytes)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, sizeof(float));
        this.communicator = communicator;
        var trainable = parameters.Where(p => p.RequiresGrad).ToList();
        var groups = new List<Tensor[]>();
        var current = new List<Tensor>();
        long size = 0;
        // Backward produces the last layers' gradients first: filling buckets from the end lets a bucket be sent
        // while earlier layers still run backward (DistributedDataParallel does that).
        for (int i = trainable.Count - 1; i >= 0; i--)
        {
            current.Add(trainable[i]);
            size += trainable[i].Shape.Length;
            if (size * sizeof(float) >= bucketBytes)
            {
                groups.Add([.. current]);
                current.Clear();
                size = 0;
            }
        }
        if (current.Count > 0) groups.Add([.. current]);
        buckets = [.. groups];
        buffers = [.. buckets.Select(b => new float[b.Sum(p => (long)p.Shape.Length)])];
        ParameterCount = trainable.Count;
        ElementCount = buffers.Sum(b => (long)b.Length);
    }

    /// <summary>The parameters averaged (those that require a gradient).</summary>
    public int ParameterCount { get; }

    /// <summary>The number of floats all-reduced per step.</summary>
    public long ElementCount { get; }

    /// <summary>The buckets, in the order they are sent (last layers first).</summary>
    public int BucketCount => buckets.Length;

    /// <summary>Averages every gradient across the ranks (blocking).</summary>
    public void Average()
    {
        for (int b = 0; b < buckets.Length; b++)
        {
            Gather(b);
            communicator.AllreduceSum(buffers[b]);
            Scatter(b);
        }
    }

    internal IReadOnlyList<Tensor> Bucket(int index) => buckets[index];

    internal float[] Buffer(int index) => buffers[index];

    /// <summary>Copies bucket <paramref name="index"/>'s gradients into its buffer (zeros where a parameter has none).</summary>
    internal void Gather(int index)
    {
        Span<float> buffer = buffers[index];
        int at = 0;
        foreach (var p in buckets[index])
        {
            int n = p.Shape.Length;
            if (p.Grad is { } grad) grad.AsSpan().CopyTo(buffer.Slice(at, n));
            else buffer.Slice(at, n).Clear();
            at += n;
        }
    }

    /// <summary>Writes the summed buffer back into the gradients, divided by the number of ranks.</summary>
    internal void Scatter(int index)
    {
        ReadOnlySpan<float> buffer = buffers[index];
        float ranks = communicator.Size;
        int at = 0;
        foreach (var p in buckets[index])
        {
            int n = p.Shape.Length;
            p.Grad ??= Tensor.ZerosLike(p);
            TensorPrimitives.Divide(buffer.Slice(at, n), ranks, p.Grad.AsSpan());
            at += n;
        }
    }
}
