namespace Backprop.Data;

/// <summary>
/// Chooses which samples of a dataset an epoch visits and in what order (PyTorch's <c>Sampler</c>), for a
/// <see cref="DataLoader"/>. A data-parallel job gives each process a sampler that returns its own shard.
/// </summary>
public interface ISampler
{
    /// <summary>How many indices <see cref="Indices"/> returns: the same every epoch.</summary>
    int Count { get; }

    /// <summary>Selects the epoch whose order <see cref="Indices"/> returns (a new order each epoch when shuffling).</summary>
    void SetEpoch(int epoch);

    /// <summary>The dataset indices of the current epoch, in the order they are visited.</summary>
    int[] Indices();
}
