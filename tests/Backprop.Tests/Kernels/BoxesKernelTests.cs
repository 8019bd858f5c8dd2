namespace Backprop.Tests.Kernels;

public class BoxesKernelTests
{
    [Theory]
    [InlineData(3000, 0.7f, 21)]
    [InlineData(3000, 0.3f, 22)]
    [InlineData(20, 0.5f, 23)]
    [InlineData(17, -0.5f, 24)]
    public void NmsFastPathMatchesReference(int n, float threshold, int seed)
    {
        // Integer-ish coordinates make exact ties of IoU with the threshold likely; some boxes are degenerate
        // (zero width, inverted), some have NaN or infinite coordinates.
        var rng = new Random(seed);
        var boxes = new float[4 * n];
        for (int i = 0; i < n; i++)
        {
            float x = rng.Next(0, 60), y = rng.Next(0, 60);
            boxes[4 * i] = x; boxes[4 * i + 1] = y;
            boxes[4 * i + 2] = x + rng.Next(i % 11 == 0 ? -3 : 0, 20); boxes[4 * i + 3] = y + rng.Next(1, 20);
            if (i % 37 == 3) boxes[4 * i + rng.Next(4)] = float.NaN;
            if (i % 41 == 4) boxes[4 * i + 2] = float.PositiveInfinity;
        }
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        rng.Shuffle(order);
        var fast = new int[n];
        var reference = new int[n];
        int kept = Backprop.Kernels.Boxes.NmsOrdered(boxes, order, threshold, fast);
        int keptReference = Backprop.Kernels.Boxes.NmsOrderedReference(boxes, order, threshold, reference);
        Assert.Equal(reference.AsSpan(0, keptReference).ToArray(), fast.AsSpan(0, kept).ToArray());
        Assert.InRange(kept, 1, n);
    }
}
