using Backprop.Data;
using Backprop.Distributed;

namespace Backprop.Tests.Distributed;

public class DistributedSamplerTests
{
    [Theory]
    [InlineData(10, 3, false)]
    [InlineData(10, 3, true)]
    [InlineData(12, 4, false)]
    [InlineData(2, 3, false)]
    public void TheShardsTileOneSeededPermutation(int n, int ranks, bool dropLast)
    {
        var shards = Enumerable.Range(0, ranks).Select(r => new DistributedSampler(n, r, ranks, seed: 42, dropLast: dropLast)).ToList();
        foreach (var s in shards) s.SetEpoch(3);
        var lists = shards.Select(s => s.Indices()).ToList();
        int count = dropLast ? n / ranks : (n + ranks - 1) / ranks;
        Assert.All(lists, l => Assert.Equal(count, l.Length));
        // Interleaving rank by rank gives the epoch's permutation (padded with its start, or cut).
        var permutation = new Generator(42 + 3).Permutation(n);
        for (int k = 0; k < count * ranks; k++)
            Assert.Equal(permutation[k % n], lists[k % ranks][k / ranks]);
        if (!dropLast) Assert.Equal(Enumerable.Range(0, n), lists.SelectMany(l => l).Distinct().Order());
    }

    [Fact]
    public void EachEpochHasItsOwnOrderAndTheSameEpochRepeats()
    {
        var s = new DistributedSampler(100, 1, 2, seed: 7);
        var first = s.Indices();
        s.SetEpoch(1);
        Assert.NotEqual(first, s.Indices());
        s.SetEpoch(0);
        Assert.Equal(first, s.Indices());
        Assert.Equal(Enumerable.Range(0, 50).Select(i => 2 * i + 1), new DistributedSampler(100, 1, 2, shuffle: false).Indices());
    }

    [Fact]
    public void ADataLoaderReadsOnlyItsShardAndCyclesThroughEpochs()
    {
        var labels = Enumerable.Range(0, 10).ToArray();
        var data = new TensorDataset(labels.Select(l => (float)l).ToArray(), new Shape(1), labels);
        var sampler = new DistributedSampler(10, 0, 2, seed: 3);
        var loader = new DataLoader(data, 2, sampler: sampler, prefetch: 0);
        Assert.Equal(3, loader.BatchesPerEpoch);
        Assert.Equal(sampler.Indices(), loader.SelectMany(b => b.Labels));
        var cycling = new DataLoader(data, 5, cycle: true, sampler: new DistributedSampler(10, 0, 2, seed: 3), prefetch: 0);
        var twoPasses = cycling.Take(2).SelectMany(b => b.Labels).ToArray();
        sampler.SetEpoch(1);
        Assert.Equal(sampler.Indices(), twoPasses[5..]);
        Assert.Throws<ArgumentException>(() => new DataLoader(data, 2, shuffle: new Generator(1), sampler: sampler));
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 2, 2));
        Assert.Throws<ArgumentException>(() => new DistributedSampler(1, 0, 2, dropLast: true));
    }
}
