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
    public void SettingsRejectBadValues()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelThreads.Count = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => SimdWidth.Max = 64);
    }
}
