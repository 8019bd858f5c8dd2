using System.Numerics.Tensors;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

[Collection("KernelSettings")]
public class ThreadedAddTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(3 * 65536 + 17)]    // several runs over threads, a ragged end
    public void MatchesOneThreadsSumAtAnyThreadCount(int n)
    {
        float[] a = KernelTestUtil.Random(n, 1, 100f), b = KernelTestUtil.Random(n, 2, 0.01f), expected = new float[n];
        TensorPrimitives.Add(a, b, expected);
        foreach (int threads in new[] { 1, 2, 3, 5 })
            KernelTestUtil.With(null, threads, () =>
            {
                var y = new float[n];
                ThreadedAdd.Add(a, b, y);
                KernelTestUtil.AssertBitIdentical(expected, y, $"{n} elements, {threads} threads");
                var inPlace = (float[])a.Clone();
                ThreadedAdd.Add(inPlace, b, inPlace);
                KernelTestUtil.AssertBitIdentical(expected, inPlace, $"{n} elements in place, {threads} threads");
            });
    }

    [Fact]
    public void MismatchedLengthsAreRejected() =>
        Assert.Throws<ArgumentException>(() => ThreadedAdd.Add(new float[4], new float[3], new float[4]));
}
