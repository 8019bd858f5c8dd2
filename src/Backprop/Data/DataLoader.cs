namespace Backprop.Data;

/// <summary>
/// Draws batches from a dataset: each enumeration is one epoch (or, with <c>cycle</c>, an endless stream), with
/// samples in order or shuffled by a seeded <see cref="Generator"/>, stacked into <see cref="Batch"/>es while the
/// previous batch trains.
/// </summary>
/// <remarks>
/// <para>Shuffling: each enumeration draws a fresh permutation from the generator when it starts, so every
/// epoch has a new order and a given seed gives the same sequence of epochs on every run, whatever the thread
/// timing. A cycling enumeration draws one 64-bit seed from the generator and shuffles each pass with a
/// generator of its own.</para>
/// <para>Cycling (as Caffe's data layers read their database): samples are taken pass after pass without end,
/// each pass in a new order when shuffling, and every batch is full, so a batch may span two passes. Stop by
/// leaving the loop, e.g. after a number of iterations.</para>
/// <para>Prefetching: with <c>prefetch</c> &gt; 0 a background thread builds up to that many batches ahead. An
/// exception while building a batch is rethrown by the loop that reads the batches, after the batches built
/// before it. Leaving a <c>foreach</c> early disposes the enumerator, which stops the thread and waits for it.
/// The dataset is read from that thread, and the generator is used only when an enumeration starts; run one
/// enumeration of a shuffling loader at a time.</para>
/// </remarks>
public sealed class DataLoader : IEnumerable<Batch>
{
    /// <summary>The most batches that may be prepared ahead.</summary>
    public const int MaxPrefetch = 16;

    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="shuffle">The generator that orders each epoch; null to keep the dataset's order.</param>
    /// <param name="dropLast">Leave out the last batch of an epoch when it is smaller than <paramref name="batchSize"/>.</param>
    /// <param name="cycle">Enumerate endlessly, pass after pass, with full batches only (Caffe's way).</param>
    /// <param name="prefetch">Batches prepared ahead on a background thread; 0 builds each batch when it is asked for.</param>
    /// <param name="sampler">Which samples each epoch visits, in order (e.g. this process's shard in a data-parallel
    /// job); replaces <paramref name="shuffle"/>. Its epoch is set by the caller, except when cycling: then pass k
    /// uses epoch k.</param>
    public DataLoader(IDataset dataset, int batchSize, Generator? shuffle = null, bool dropLast = false, bool cycle = false, int prefetch = 2,
        ISampler? sampler = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(prefetch);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefetch, MaxPrefetch);
        if (dataset.Count == 0) throw new ArgumentException("The dataset has no samples.", nameof(dataset));
        if (sampler is not null && shuffle is not null)
            throw new ArgumentException("Give a shuffle generator or a sampler, not both: the sampler decides the order.", nameof(sampler));
        if (sampler is not null && sampler.Count < 1) throw new ArgumentException("The sampler selects no samples.", nameof(sampler));
        int count = sampler?.Count ?? dataset.Count;
        if (dropLast && !cycle && count < batchSize)
            throw new ArgumentException($"With dropLast, a batch size of {batchSize} leaves no batch from {count} samples.", nameof(batchSize));
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Cycle = cycle;
        Prefetch = prefetch;
        Sampler = sampler;
    }

    public IDataset Dataset { get; }
    public int BatchSize { get; }
    public Generator? Shuffle { get; }
    public bool DropLast { get; }
    public bool Cycle { get; }
    public int Prefetch { get; }
    public ISampler? Sampler { get; }

    /// <summary>Samples in one epoch: the sampler's count, or the whole dataset.</summary>
    public int SamplesPerEpoch => Sampler?.Count ?? Dataset.Count;

    /// <summary>Batches in one epoch (without cycling).</summary>
    public int BatchesPerEpoch => DropLast ? SamplesPerEpoch / BatchSize : (SamplesPerEpoch + BatchSize - 1) / BatchSize;

    /// <summary>Starts an epoch (or the endless stream, with cycling); the order is drawn now, on the calling thread.</summary>
    public IEnumerator<Batch> GetEnumerator()
    {
        IEnumerator<Batch> batches = Cycle
            ? (Sampler is null ? CycleBatches(Shuffle is null ? null : new Generator(Shuffle.NextUInt64())) : CycleSampled(Sampler))
            : EpochBatches((Sampler is null ? null : Sampled(Sampler)) ?? Shuffle?.Permutation(Dataset.Count) ?? Identity(Dataset.Count));
        return Prefetch == 0 ? batches : new PrefetchEnumerator<Batch>(batches, Prefetch, "Backprop DataLoader");
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private static int[] Identity(int n)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        return order;
    }

    private IEnumerator<Batch> EpochBatches(int[] order)
    {
        int batches = BatchesPerEpoch;
        for (int b = 0; b < batches; b++)
        {
            int start = b * BatchSize;
            yield return MakeBatch(order.AsSpan(start, Math.Min(BatchSize, order.Length - start)));
        }
    }

    private IEnumerator<Batch> CycleBatches(Generator? generator)
    {
        int n = Dataset.Count;
        int[] order = generator?.Permutation(n) ?? Identity(n);
        int position = 0;
        var indices = new int[BatchSize];
        while (true)
        {
            for (int i = 0; i < BatchSize; i++)
            {
                if (position == n)
                {
                    if (generator is not null) order = generator.Permutation(n);
                    position = 0;
                }
                indices[i] = order[position++];
            }
            yield return MakeBatch(indices);
        }
    }

    /// <summary>The sampler's order for its current epoch, checked against its count and the dataset.</summary>
    private int[] Sampled(ISampler sampler)
    {
        int[] order = sampler.Indices();
        if (order.Length != sampler.Count)
            throw new InvalidOperationException($"{sampler.GetType().Name} returned {order.Length} indices but says it has {sampler.Count}.");
        foreach (int index in order)
            if ((uint)index >= (uint)Dataset.Count)
                throw new InvalidOperationException($"{sampler.GetType().Name} chose sample {index}, but the dataset has {Dataset.Count}.");
        return order;
    }

    // Cycling over a sampler: pass k visits the sampler's epoch k, so every process of a job moves on together.
    private IEnumerator<Batch> CycleSampled(ISampler sampler)
    {
        int pass = 0;
        sampler.SetEpoch(pass);
        int[] order = Sampled(sampler);
        int position = 0;
        var indices = new int[BatchSize];
        while (true)
        {
            for (int i = 0; i < BatchSize; i++)
            {
                if (position == order.Length)
                {
                    sampler.SetEpoch(++pass);
                    order = Sampled(sampler);
                    position = 0;
                }
                indices[i] = order[position++];
            }
            yield return MakeBatch(indices);
        }
    }

    private Batch MakeBatch(ReadOnlySpan<int> indices)
    {
        var sampleShape = Dataset.SampleShape;
        int sampleLength = sampleShape.Length;
        var dims = new int[sampleShape.Rank + 1];
        dims[0] = indices.Length;
        for (int d = 0; d < sampleShape.Rank; d++) dims[d + 1] = sampleShape[d];
        var values = new float[(long)indices.Length * sampleLength];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
            labels[i] = Dataset.CopySample(indices[i], values.AsSpan(i * sampleLength, sampleLength));
        return new Batch(new Tensor(values, 0, new Shape(dims)), labels);
    }
}
