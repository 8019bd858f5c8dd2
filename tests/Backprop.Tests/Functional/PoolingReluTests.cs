namespace Backprop.Tests.FunctionalOps;

/// <summary>Functional.MaxPool2dRelu against its definition, Relu(MaxPool2d(x)): the same bits forward and backward on every path.</summary>
public class PoolingReluTests
{
    // (N, C, H, W, kernel, stride, pad, ceil): cifar10_quick's pool1 (16 lanes), a narrow 3x3 stride-2 (4 lanes), the 2x2
    // stride-2 path, a stride-3 window (the scalar loops), a padded stride-1 window.
    public static TheoryData<int, int, int, int, int, int, int, bool> Shapes => new()
    {
        { 2, 3, 32, 32, 3, 2, 0, true },
        { 2, 3, 9, 9, 3, 2, 0, true },
        { 2, 3, 8, 8, 2, 2, 0, false },
        { 2, 3, 10, 10, 3, 3, 0, false },
        { 2, 2, 7, 7, 3, 1, 1, false },
        { 3, 2, 16, 40, 3, 2, 1, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReluOfMaxPoolBitForBit(int n, int c, int h, int w, int k, int s, int p, bool ceil)
    {
        var g = new Generator(7);
        var values = Tensor.Uniform(g, -1, 1, n, c, h, w).ToArray();
        for (int i = 0; i < values.Length; i++) values[i] = MathF.Round(values[i] * 4) / 4;   // ties and exact zeros
        values[5] = float.NaN;
        values[values.Length / 2] = -0f;

        var a = Tensor.FromArray(values, n, c, h, w);
        a.RequiresGrad = true;
        var expected = Functional.Relu(Functional.MaxPool2d(a, (k, k), (s, s), (p, p), ceil));
        var b = Tensor.FromArray(values, n, c, h, w);
        b.RequiresGrad = true;
        var actual = Functional.MaxPool2dRelu(b, (k, k), (s, s), (p, p), ceil);
        Assert.Equal(expected.Shape, actual.Shape);
        AssertBits(expected.ToArray(), actual.ToArray());

        var dy = Tensor.Uniform(new Generator(11), -2, 2, expected.Shape.ToArray());
        var dyValues = dy.ToArray();
        dyValues[0] = -0f;
        expected.Backward(Tensor.FromArray(dyValues, expected.Shape.ToArray()));
        actual.Backward(Tensor.FromArray(dyValues, expected.Shape.ToArray()));
        AssertBits(a.Grad!.ToArray(), b.Grad!.ToArray());

        // Without a gradient: the values path.
        var plain = Functional.MaxPool2dRelu(Tensor.FromArray(values, n, c, h, w), (k, k), (s, s), (p, p), ceil);
        AssertBits(expected.ToArray(), plain.ToArray());
    }

    private static void AssertBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"element {i}: expected {expected[i]} ({BitConverter.SingleToInt32Bits(expected[i]):x8}), got {actual[i]} ({BitConverter.SingleToInt32Bits(actual[i]):x8})");
    }
}
