using Backprop.Data;

namespace Backprop.Distributed;

/// <summary>
/// Gives each rank of a data-parallel job its own shard of every epoch (PyTorch's <c>DistributedSampler</c>):
/// one permutation of the dataset per epoch, drawn from <c>seed + epoch</c> so it is the same on every rank, cut
/// so that rank r takes positions r, r + size, r + 2·size, ... Every rank gets <see cref="Count"/> indices, so every
/// rank runs the same number of steps. When the dataset does not divide evenly, <c>dropLast</c> false
/// repeats the first samples of the permutation to fill the last round (as PyTorch pads), true leaves the tail out.
/// Call <see cref="SetEpoch"/> at the start of each epoch for a new order (a <see cref="DataLoader"/> that cycles does it).
/// </summary>
public sealed class DistributedSampler : ISampler
{
    private readonly int datasetCount;

    /// <param name="datasetCount">Samples in the dataset.</param>
    /// <param name="rank">This process's rank, 0 to <paramref name="ranks"/> - 1.</param>
    /// <param name="ranks">The number of processes sharing the dataset.</param>
    /// <param name="shuffle">A new seeded permutation each epoch; false keeps the dataset's order.</param>
    /// <param name="seed">The seed of epoch 0's permutation; must be the same on every rank.</param>
    /// <param name="dropLast">Leave out the tail that does not divide among the ranks instead of padding.</param>
    public DistributedSampler(int datasetCount, int rank, int ranks, bool shuffle = true, ulong seed = 0, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        if ((uint)rank >= (uint)ranks) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be in 0..{ranks - 1}.");
        ArgumentOutOfRangeException.ThrowIfLessThan(datasetCount, 1);
        if (dropLast && datasetCount < ranks)
            throw new ArgumentException($"With dropLast, {datasetCount} samples leave none for each of {ranks} ranks.", nameof(datasetCount));
        this.datasetCount = datasetCount;
        Rank = rank;
        Ranks = ranks;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        Count = dropLast ? datasetCount / ranks : (datasetCount + ranks - 1) / ranks;
    }

    /// <summary>The shard of <paramref name="communicator"/>'s rank.</summary>
    public DistributedSampler(int datasetCount, Communicator communicator, bool shuffle = true, ulong seed = 0, bool dropLast = false)
        : this(datasetCount, (communicator ?? throw new ArgumentNullException(nameof(communicator))).Rank, communicator.Size, shuffle, seed, dropLast) { }

    public int Rank { get; }
    public int Ranks { get; }
    public bool Shuffle { get; }
    public ulong Seed { get; }
    public bool DropLast { get; }

    /// <summary>The epoch whose shard <see cref="Indices"/> returns.</summary>
    public int Epoch { get; private set; }

    /// <summary>Indices per rank and epoch: the dataset divided by the ranks, rounded up (padding) or down (dropLast).</summary>
    public int Count { get; }

    public void SetEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        Epoch = epoch;
    }

    public int[] Indices()
    {
        int[] order;
        if (Shuffle) order = new Generator(unchecked(Seed + (ulong)Epoch)).Permutation(datasetCount);
        else
        {
            order = new int[datasetCount];
            for (int i = 0; i < order.Length; i++) order[i] = i;
        }
        var mine = new int[Count];
        // Position k of the (padded or cut) round-robin sequence is order[k mod n].
        for (int i = 0; i < mine.Length; i++) mine[i] = order[(int)(((long)i * Ranks + Rank) % datasetCount)];
        return mine;
    }
}
