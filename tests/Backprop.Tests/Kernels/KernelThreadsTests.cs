using System.Collections.Concurrent;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

[Collection("KernelSettings")]
public class KernelThreadsTests
{
    [Fact]
    public void PartitionIsFixedAndCoversTheRange()
    {
        KernelTestUtil.With(null, 3, () =>
        {
            var chunks = new ConcurrentBag<(int, int)>();
            KernelThreads.For(10, (s, e) => chunks.Add((s, e)));
            Assert.Equal(new[] { (0, 3), (3, 6), (6, 10) }, chunks.OrderBy(c => c.Item1).ToArray());
        });
    }

    [Fact]
    public void ASerialScopeRunsEachCallWholeOnTheCallerAndEndsWithTheScope()
    {
        KernelTestUtil.With(null, 2, () =>
        {
            int caller = Environment.CurrentManagedThreadId;
            var chunks = new ConcurrentBag<(int, int, int)>();
            using (KernelThreads.Serially(true))
                KernelThreads.For(8, (s, e) => chunks.Add((s, e, Environment.CurrentManagedThreadId)));
            Assert.Equal(new[] { (0, 8, caller) }, chunks.ToArray());
            Assert.False(KernelThreads.InWorker);
            chunks.Clear();
            using (KernelThreads.Serially(false))
                KernelThreads.For(8, (s, e) => chunks.Add((s, e, Environment.CurrentManagedThreadId)));
            Assert.Equal(new[] { (0, 4), (4, 8) }, chunks.Select(c => (c.Item1, c.Item2)).OrderBy(c => c.Item1).ToArray());
        });
    }

    [Fact]
    public void NestedCallsRunSerially()
    {
        KernelTestUtil.With(null, 2, () =>
        {
            var inner = new ConcurrentBag<(int, int)>();
            KernelThreads.For(2, (s, e) => KernelThreads.For(8, (a, b) => inner.Add((a, b))));
            Assert.Equal(new[] { (0, 8), (0, 8) }, inner.ToArray());
        });
    }

    [Fact]
    public void AnExceptionInAChunkReachesTheCallerAndTheWorkersCarryOn()
    {
        KernelTestUtil.With(null, 2, () =>
        {
            var e = Assert.Throws<InvalidOperationException>(() =>
                KernelThreads.For(4, (s, _) => { if (s >= 2) throw new InvalidOperationException("chunk " + s); }));
            Assert.StartsWith("chunk", e.Message);
            int sum = 0;
            KernelThreads.For(4, (s, end) => Interlocked.Add(ref sum, end - s));
            Assert.Equal(4, sum);
        });
    }

    [Fact]
    public void CallsFromManyThreadsAtOnceCoverTheirRangesExactlyOnce()
    {
        // Callers that find the workers busy run their chunks themselves; every element is still done once.
        KernelTestUtil.With(null, 2, () =>
        {
            var counts = new int[8][];
            Parallel.For(0, 8, caller =>
            {
                var seen = counts[caller] = new int[1000];
                for (int round = 0; round < 50; round++)
                    KernelThreads.For(seen.Length, (s, e) => { for (int i = s; i < e; i++) Interlocked.Increment(ref seen[i]); });
            });
            foreach (var seen in counts) Assert.All(seen, n => Assert.Equal(50, n));
        });
    }

    [Fact]
    public void SettingsRejectBadValues()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelThreads.Count = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => SimdWidth.Max = 64);
    }
}
