using System.Diagnostics;
using Backprop.Data;

namespace Backprop.Tests.Data;

public class DataLoaderTests
{
    /// <summary>n samples of shape (2, 3); every value of sample i is i * 10 + its position, its label is i.</summary>
    private static TensorDataset Numbered(int n)
    {
        var data = new float[n * 6];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 6; k++) data[i * 6 + k] = i * 10 + k;
        return new TensorDataset(data, new Shape(2, 3), Enumerable.Range(0, n).ToArray());
    }

    private static List<int[]> Labels(IEnumerable<Batch> batches) => batches.Select(b => b.Labels).ToList();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void BatchesInOrderWithSmallerLastBatch(int prefetch)
    {
        var loader = new DataLoader(Numbered(10), batchSize: 4, prefetch: prefetch);
        var batches = loader.ToList();

        Assert.Equal(3, loader.BatchesPerEpoch);
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], Labels(batches));
        Assert.Equal(new Shape(4, 2, 3), batches[0].Images.Shape);
        Assert.Equal(new Shape(2, 2, 3), batches[2].Images.Shape);
        Assert.Equal([80f, 81, 82, 83, 84, 85, 90, 91, 92, 93, 94, 95], batches[2].Images.ToArray());
        Assert.Equal(2, batches[2].Count);
        var (images, labels) = batches[1];
        Assert.Equal(50f, images[1, 0, 0]);
        Assert.Equal(5, labels[1]);
    }

    [Fact]
    public void DropLastLeavesOutThePartialBatch()
    {
        var loader = new DataLoader(Numbered(10), batchSize: 4, dropLast: true);
        Assert.Equal(2, loader.BatchesPerEpoch);
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7]], Labels(loader));
        Assert.Throws<ArgumentException>(() => new DataLoader(Numbered(3), batchSize: 4, dropLast: true));
    }

    [Fact]
    public void ShuffleIsDeterministicForASeedAndNewEachEpoch()
    {
        List<int[]> Epochs(int prefetch)
        {
            var loader = new DataLoader(Numbered(20), batchSize: 6, shuffle: new Generator(42), prefetch: prefetch);
            var epochs = new List<int[]>();
            for (int e = 0; e < 3; e++) epochs.Add(loader.SelectMany(b => b.Labels).ToArray());
            return epochs;
        }

        var a = Epochs(prefetch: 2);
        var b = Epochs(prefetch: 0);
        Assert.Equal(a, b); // same seed, same sequence, with or without the worker thread
        foreach (var epoch in a) Assert.Equal(Enumerable.Range(0, 20), epoch.Order()); // each epoch a permutation
        Assert.NotEqual(a[0], a[1]);
        Assert.NotEqual(a[1], a[2]);
        Assert.NotEqual(Enumerable.Range(0, 20), a[0]);
        // The order is the generator's permutation.
        Assert.Equal(new Generator(42).Permutation(20), a[0]);

        var other = new DataLoader(Numbered(20), batchSize: 6, shuffle: new Generator(43)).SelectMany(x => x.Labels).ToArray();
        Assert.NotEqual(a[0], other);
    }

    [Fact]
    public void ShuffledBatchesCarryTheirOwnSamples()
    {
        foreach (var batch in new DataLoader(Numbered(9), batchSize: 4, shuffle: new Generator(1)))
            for (int i = 0; i < batch.Count; i++)
                Assert.Equal(batch.Labels[i] * 10 + 4, batch.Images[i, 1, 1]);
    }

    [Fact]
    public void CycleRunsPassAfterPassWithFullBatches()
    {
        var loader = new DataLoader(Numbered(5), batchSize: 3, cycle: true);
        Assert.Equal([[0, 1, 2], [3, 4, 0], [1, 2, 3], [4, 0, 1]], Labels(loader.Take(4)));

        var shuffled = new DataLoader(Numbered(5), batchSize: 3, shuffle: new Generator(9), cycle: true);
        int[] stream = shuffled.Take(10).SelectMany(b => b.Labels).ToArray(); // six passes of five
        var passes = stream.Chunk(5).ToList();
        foreach (var pass in passes) Assert.Equal([0, 1, 2, 3, 4], pass.Order());
        Assert.True(passes.Distinct(new SequenceComparer()).Count() > 1);
        // Deterministic for a seed, whatever the prefetching thread did before an early stop.
        var again = new DataLoader(Numbered(5), batchSize: 3, shuffle: new Generator(9), cycle: true, prefetch: 0);
        Assert.Equal(stream, again.Take(10).SelectMany(b => b.Labels).ToArray());
    }

    private sealed class SequenceComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? x, int[]? y) => x!.SequenceEqual(y!);
        public int GetHashCode(int[] obj) => obj.Aggregate(17, (h, v) => h * 31 + v);
    }

    /// <summary>A dataset that counts reads, can be slow, and throws at one index.</summary>
    private sealed class ProbeDataset(int count, int throwAt = -1, int delayMs = 0) : IDataset
    {
        private int reads;
        public int Reads => Volatile.Read(ref reads);
        public int Count => count;
        public Shape SampleShape { get; } = new(2);
        public int CopySample(int index, Span<float> destination)
        {
            if (delayMs > 0) Thread.Sleep(delayMs);
            Interlocked.Increment(ref reads);
            if (index == throwAt) throw new FormatException($"sample {index} is corrupt");
            destination.Fill(index);
            return index;
        }
    }

    [Fact]
    public void WorkerExceptionSurfacesOnTheConsumerAfterEarlierBatches()
    {
        var loader = new DataLoader(new ProbeDataset(10, throwAt: 6), batchSize: 2, prefetch: 2);
        var received = new List<int[]>();
        var e = Assert.Throws<FormatException>(() =>
        {
            foreach (var batch in loader) received.Add(batch.Labels);
        });
        Assert.Equal("sample 6 is corrupt", e.Message);
        Assert.Equal([[0, 1], [2, 3], [4, 5]], received);
    }

    [Fact]
    public async Task EarlyBreakStopsTheWorkerWithoutHanging()
    {
        var dataset = new ProbeDataset(1000, delayMs: 1);
        var loader = new DataLoader(dataset, batchSize: 4, cycle: true, prefetch: 2);
        var run = Task.Run(() =>
        {
            int seen = 0;
            foreach (var batch in loader)
                if (++seen == 3) break;
            return seen;
        });
        Assert.Equal(3, await run.WaitAsync(TimeSpan.FromSeconds(30))); // a TimeoutException if leaving the loop hung
        int reads = dataset.Reads;
        await Task.Delay(50);
        Assert.Equal(reads, dataset.Reads); // the worker has stopped
        Assert.True(reads <= (3 + 2 + 1) * 4, $"the worker read {reads} samples, more than the bounded queue allows");
    }

    [Fact]
    public void DisposingWhileTheWorkerWaitsOnAFullQueueReturns()
    {
        var loader = new DataLoader(new ProbeDataset(100), batchSize: 1, prefetch: 1);
        var stopwatch = Stopwatch.StartNew();
        using (var enumerator = loader.GetEnumerator())
        {
            Assert.True(enumerator.MoveNext());
            Thread.Sleep(20); // the worker fills the queue and blocks
        }
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10));

        var disposed = loader.GetEnumerator();
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => disposed.MoveNext());
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Numbered(3), batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Numbered(3), batchSize: 1, prefetch: -1));
        Assert.Throws<ArgumentException>(() => new TensorDataset(new float[5], new Shape(2, 3), [0]));
        var fromTensor = TensorDataset.FromTensor(Tensor.Arange(12).Reshape(2, 2, 3), [4, 5]);
        Assert.Equal([6f, 7, 8, 9, 10, 11], fromTensor.Sample(1).ToArray());
    }
}
