using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

/// <summary>Gradient checks of the Tensor ops (arithmetic, elementwise, reductions, products, shape ops) through autograd.</summary>
public class TensorOpGradientTests(ITestOutputHelper output)
{
    private static Tensor NonZero(Generator g, params int[] shape)
    {
        // |x| in [0.5, 1.5) with random sign: safe divisors.
        var t = Tensor.Uniform(g, 0.5f, 1.5f, shape);
        var d = t.AsSpan();
        for (int i = 0; i < d.Length; i++) if (g.NextFloat() < 0.5f) d[i] = -d[i];
        t.RequiresGrad = true;
        return t;
    }

    public static IEnumerable<object[]> BroadcastShapes => new object[][]
    {
        new object[] { new[] { 3, 4 }, new[] { 3, 4 } },
        new object[] { new[] { 3, 1 }, new[] { 1, 4 } },
        new object[] { new[] { 2, 3, 4 }, new[] { 4 } },
        new object[] { new[] { 2, 1, 4 }, new[] { 3, 1 } },
        new object[] { new[] { 2, 3 }, Array.Empty<int>() },
        new object[] { Array.Empty<int>(), new[] { 2, 3 } },
    };

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void BroadcastArithmetic(int[] aShape, int[] bShape)
    {
        var g = new Generator(81);
        var a = Leaf(g, aShape);
        var b = NonZero(g, bShape);
        string s = $"{new Shape(aShape)} and {new Shape(bShape)}";
        GradientCheck.Check(xs => xs[0] + xs[1], [a, b], output, "add " + s, ["a", "b"]);
        GradientCheck.Check(xs => xs[0] - xs[1], [a, b], output, "sub " + s, ["a", "b"]);
        GradientCheck.Check(xs => xs[0] * xs[1], [a, b], output, "mul " + s, ["a", "b"]);
        GradientCheck.Check(xs => xs[0] / xs[1], [a, b], output, "div " + s, ["a", "b"]);
        var a2 = NonZero(g, aShape);
        var b2 = Leaf(g, bShape);
        GradientCheck.Check(xs => xs[1] / xs[0], [a2, b2], output, "div (reversed) " + s, ["a", "b"]);
    }

    [Fact]
    public void BroadcastForwardValues()
    {
        var col = Tensor.FromArray([1f, 2f, 3f], 3, 1);
        var row = Tensor.FromArray([10f, 20f, 30f, 40f], 1, 4);
        var sum = col + row;
        Assert.Equal(new Shape(3, 4), sum.Shape);
        Assert.Equal([11f, 21f, 31f, 41f, 12f, 22f, 32f, 42f, 13f, 23f, 33f, 43f], sum.ToArray());
        Assert.Equal([-9f, -19f, -29f, -39f], (col - row).Slice(0, 1).ToArray());
        Assert.Equal([30f, 60f, 90f, 120f], (col * row).Slice(2, 3).ToArray());
        Assert.Equal([0.2f, 0.1f, 2f / 30, 0.05f], (col / row).Slice(1, 2).ToArray());
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 2) + Tensor.Zeros(3));
    }

    [Fact]
    public void ScalarArithmetic()
    {
        var g = new Generator(82);
        var x = NonZero(g, 2, 3);
        GradientCheck.Check(xs => xs[0] + 2.5f, [x], output, "x + s", ["x"]);
        GradientCheck.Check(xs => 2.5f + xs[0], [x], output, "s + x", ["x"]);
        GradientCheck.Check(xs => xs[0] - 2.5f, [x], output, "x - s", ["x"]);
        GradientCheck.Check(xs => 1.5f - xs[0], [x], output, "s - x", ["x"]);
        GradientCheck.Check(xs => xs[0] * -3f, [x], output, "x * s", ["x"]);
        GradientCheck.Check(xs => 0.5f * xs[0], [x], output, "s * x", ["x"]);
        GradientCheck.Check(xs => xs[0] / 4f, [x], output, "x / s", ["x"]);
        GradientCheck.Check(xs => 2f / xs[0], [x], output, "s / x", ["x"]);
        GradientCheck.Check(xs => -xs[0], [x], output, "-x", ["x"]);
        Assert.Equal(x.ToArray().Select(v => 2f / v).ToArray(), (2f / x).ToArray());
        Assert.Equal(x.ToArray().Select(v => 1.5f - v).ToArray(), (1.5f - x).ToArray());
    }

    [Fact]
    public void ElementwiseFunctions()
    {
        var g = new Generator(83);
        var any = Leaf(g, 2, 3, 2);
        var pos = UniformLeaf(g, 0.5f, 2f, 2, 3, 2);
        GradientCheck.Check(xs => xs[0].Exp(), [any], output, "exp", ["x"]);
        GradientCheck.Check(xs => xs[0].Log(), [pos], output, "log", ["x"]);
        GradientCheck.Check(xs => xs[0].Sqrt(), [pos], output, "sqrt", ["x"]);
        GradientCheck.Check(xs => xs[0].Pow(3f), [any], output, "pow 3", ["x"]);
        GradientCheck.Check(xs => xs[0].Pow(2f), [any], output, "pow 2", ["x"]);
        GradientCheck.Check(xs => xs[0].Pow(0.5f), [pos], output, "pow 0.5", ["x"]);
        GradientCheck.Check(xs => xs[0].Pow(-1.5f), [pos], output, "pow -1.5", ["x"]);
        GradientCheck.Check(xs => xs[0].Pow(0f) + xs[0], [pos], output, "pow 0", ["x"]);
        var away = AwayFrom(g, 0f, 0.05f, 3, 4);
        GradientCheck.Check(xs => xs[0].Abs(), [away], output, "abs", ["x"]);

        // Clamp to [−0.5, 0.5] with values 0.05 away from both bounds.
        var c = Tensor.Uniform(g, -1.5f, 1.5f, 4, 5);
        var cd = c.AsSpan();
        for (int i = 0; i < cd.Length; i++)
            if (Math.Abs(Math.Abs(cd[i]) - 0.5f) < 0.05f) cd[i] = Math.Sign(cd[i]) * (Math.Abs(cd[i]) < 0.5f ? 0.42f : 0.58f);
        c.RequiresGrad = true;
        GradientCheck.Check(xs => xs[0].Clamp(-0.5f, 0.5f), [c], output, "clamp", ["x"]);
        GradientCheck.Check(xs => xs[0].Clamp(min: -0.5f), [c], output, "clamp min", ["x"]);

        var v = Tensor.FromArray([-2f, 0.25f, 4f]);
        AssertClose(new[] { Math.Exp(-2), Math.Exp(0.25), Math.Exp(4) }, v.Exp().ToArray(), 1e-6, "exp");
        Assert.Equal([0.5f, 2f], Tensor.FromArray([0.25f, 4f]).Sqrt().ToArray());
        Assert.Equal([-8f, 0.015625f, 64f], v.Pow(3).ToArray());
        Assert.Equal([2f, 0.25f, 4f], v.Abs().ToArray());
        Assert.Equal([-1f, 0.25f, 1f], v.Clamp(-1f, 1f).ToArray());
    }

    [Fact]
    public void Reductions()
    {
        var g = new Generator(84);
        var x = Leaf(g, 2, 3, 4);
        GradientCheck.Check(xs => xs[0].Sum(), [x], output, "sum", ["x"]);
        GradientCheck.Check(xs => xs[0].Mean(), [x], output, "mean", ["x"]);
        foreach (int axis in new[] { 0, 1, 2, -1 })
            foreach (bool keep in new[] { false, true })
            {
                GradientCheck.Check(xs => xs[0].Sum(axis, keep), [x], output, $"sum axis {axis} keepDim={keep}", ["x"]);
                GradientCheck.Check(xs => xs[0].Mean(axis, keep), [x], output, $"mean axis {axis} keepDim={keep}", ["x"]);
            }
        var d = Distinct(g, 0.05f, 2, 3, 4);
        GradientCheck.Check(xs => xs[0].Max(), [d], output, "max", ["x"]);
        foreach (int axis in new[] { 0, 1, 2 })
            foreach (bool keep in new[] { false, true })
                GradientCheck.Check(xs => xs[0].Max(axis, keep), [d], output, $"max axis {axis} keepDim={keep}", ["x"]);
    }

    [Fact]
    public void ReductionValues()
    {
        var x = Tensor.Arange(0, 6).Reshape(2, 3);   // [[0, 1, 2], [3, 4, 5]]
        Assert.Equal(15f, x.Sum().Item());
        Assert.Equal(2.5f, x.Mean().Item());
        Assert.Equal([3f, 5f, 7f], x.Sum(0).ToArray());
        Assert.Equal(new Shape(2, 1), x.Sum(1, keepDim: true).Shape);
        Assert.Equal([3f, 12f], x.Sum(1, keepDim: true).ToArray());
        Assert.Equal([1f, 4f], x.Mean(-1).ToArray());
        Assert.Equal(5f, x.Max().Item());
        Assert.Equal([2f, 5f], x.Max(1).ToArray());
        Assert.Equal(new Shape(1, 3), x.Max(0, keepDim: true).Shape);
    }

    [Fact]
    public void MatrixProducts()
    {
        var g = new Generator(85);
        var a = Leaf(g, 3, 4);
        var b = Leaf(g, 4, 5);
        GradientCheck.Check(xs => xs[0].MatMul(xs[1]), [a, b], output, "matmul 2-D", ["a", "b"]);
        var a3 = Leaf(g, 2, 3, 4);
        var b3 = Leaf(g, 2, 4, 2);
        GradientCheck.Check(xs => xs[0].MatMul(xs[1]), [a3, b3], output, "matmul batched", ["a", "b"]);
        GradientCheck.Check(xs => xs[0].MatMul(xs[1]), [a3, b], output, "matmul 3-D @ 2-D", ["a", "b"]);

        // Values from the definition.
        float[] ad = a3.ToArray(), bd = b3.ToArray();
        var expected = new double[2 * 3 * 2];
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 2; j++)
                    for (int k = 0; k < 4; k++) expected[(n * 3 + i) * 2 + j] += (double)ad[(n * 3 + i) * 4 + k] * bd[(n * 4 + k) * 2 + j];
        AssertClose(expected, a3.MatMul(b3).ToArray(), 1e-5, "batched matmul");
        Assert.Equal([19f, 22f, 43f, 50f], Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2).MatMul(Tensor.FromArray([5f, 6f, 7f, 8f], 2, 2)).ToArray());
        Assert.Throws<ArgumentException>(() => a.MatMul(a));
    }

    [Fact]
    public void ShapeOps()
    {
        var g = new Generator(86);
        var x = Leaf(g, 4, 3, 2);
        GradientCheck.Check(xs => xs[0].Reshape(6, -1), [x], output, "reshape", ["x"]);
        GradientCheck.Check(xs => xs[0].Flatten(1), [x], output, "flatten", ["x"]);
        GradientCheck.Check(xs => xs[0].Unsqueeze(1).Squeeze(1), [x], output, "unsqueeze/squeeze", ["x"]);
        GradientCheck.Check(xs => xs[0].Slice(1, 3), [x], output, "slice", ["x"]);
        GradientCheck.Check(xs => xs[0].Transpose(0, 2), [x], output, "transpose", ["x"]);
        GradientCheck.Check(xs => xs[0].Transpose(-1, 1), [x], output, "transpose negative axes", ["x"]);
        GradientCheck.Check(xs => xs[0].Permute(2, 0, 1), [x], output, "permute", ["x"]);
        GradientCheck.Check(xs => xs[0].Slice(1, 4).Permute(1, 2, 0).Reshape(-1), [x], output, "slice-permute-reshape", ["x"]);

        var a = Leaf(g, 2, 3, 2);
        var b = Leaf(g, 2, 1, 2);
        var c = Tensor.Randn(g, 2, 2, 2);   // needs no gradient
        GradientCheck.Check(xs => Tensor.Concat([xs[0], xs[1], xs[2]], 1), [a, b, c], output, "concat axis 1", ["a", "b", "c"]);
        GradientCheck.Check(xs => Tensor.Concat([xs[0], xs[0]], -1), [a], output, "concat with itself", ["a"]);
        GradientCheck.Check(xs => Tensor.Concat([xs[0], xs[1]], 0), [a, Leaf(g, 1, 3, 2)], output, "concat axis 0", ["a", "b"]);
    }

    [Fact]
    public void ShapeOpValues()
    {
        var x = Tensor.Arange(0, 6).Reshape(2, 3);
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], x.Transpose(0, 1).ToArray());
        Assert.Equal(new Shape(3, 2), x.Transpose(0, 1).Shape);
        var y = Tensor.Arange(0, 24).Reshape(2, 3, 4);
        var p = y.Permute(2, 0, 1);
        Assert.Equal(new Shape(4, 2, 3), p.Shape);
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) Assert.Equal(y[i, j, k], p[k, i, j]);
        Assert.Equal([3f, 4f, 5f], x.Slice(1, 2).Reshape(3).ToArray());
        var cat = Tensor.Concat([x, Tensor.Full(9f, 2, 1)], 1);
        Assert.Equal([0f, 1f, 2f, 9f, 3f, 4f, 5f, 9f], cat.ToArray());
    }

    [Fact]
    public void GradientsAccumulateOverUses()
    {
        var g = new Generator(87);
        var x = Leaf(g, 3, 2);
        var y = Leaf(g, 3, 2);
        GradientCheck.Check(xs => xs[0] * xs[0] * xs[1] + xs[0].Exp() * xs[1] - xs[1].Sum(0, keepDim: true) * xs[0], [x, y], output, "composite", ["x", "y"]);
        // Through a softmax, then cross-entropy of its log: a chain of several nodes.
        GradientCheck.Check(xs => Backprop.Functional.Softmax(xs[0].MatMul(xs[1].Transpose(0, 1)), 1).Log(), [x, y], output, "matmul-softmax-log", ["x", "y"]);
    }
}
