namespace Backprop.Tests.Core;

public class TensorTests
{
    [Fact]
    public void CreationFillsAsDocumented()
    {
        Assert.Equal(new float[6], Tensor.Zeros(2, 3).ToArray());
        Assert.All(Tensor.Ones(4).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Tensor.Full(2.5f, 2, 2).ToArray(), v => Assert.Equal(2.5f, v));
        Assert.Equal(new float[] { 0, 1, 2, 3, 4 }, Tensor.Arange(5).ToArray());
        Assert.Equal(new float[] { 1, 1.5f, 2, 2.5f }, Tensor.Arange(1, 3, 0.5f).ToArray());
        var t = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal(6f, t[1, 2]);
        Assert.Equal(4f, t[-1, 0]);
        Assert.Equal(0, Tensor.Scalar(3).Rank);
    }

    [Fact]
    public void FromArrayCopiesAndRejectsWrongLength()
    {
        var data = new float[] { 1, 2, 3 };
        var t = Tensor.FromArray(data, 3);
        data[0] = 9;
        Assert.Equal(1f, t[0]);
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromArray(data, 2, 2));
        Assert.Contains("(2, 2)", e.Message);
    }

    [Fact]
    public void RandomTensorsRepeatWithTheSeed()
    {
        var a = Tensor.Randn(new Generator(7), 100);
        var b = Tensor.Randn(new Generator(7), 100);
        var c = Tensor.Randn(new Generator(8), 100);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.NotEqual(a.ToArray(), c.ToArray());
        var u = Tensor.Uniform(new Generator(1), -2, 3, 10000).ToArray();
        Assert.All(u, v => Assert.InRange(v, -2f, 3f));
        Assert.InRange(u.Average(), 0.4, 0.6);
        var n = Tensor.Normal(new Generator(1), 1, 2, 20000).ToArray();
        double mean = n.Average(), std = Math.Sqrt(n.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, 0.95, 1.05);
        Assert.InRange(std, 1.95, 2.05);
    }

    [Fact]
    public void BroadcastingArithmeticMatchesHandValues()
    {
        var a = Tensor.FromArray([1, 2, 3], 3, 1);
        var b = Tensor.FromArray([10, 20, 30, 40], 1, 4);
        var sum = a + b;
        Assert.Equal(new Shape(3, 4), sum.Shape);
        Assert.Equal(new float[] { 11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43 }, sum.ToArray());
        Assert.Equal(new float[] { -9, -19, -29, -39, -8, -18, -28, -38, -7, -17, -27, -37 }, (a - b).ToArray());
        Assert.Equal(new float[] { 10, 20, 30, 40, 20, 40, 60, 80, 30, 60, 90, 120 }, (a * b).ToArray());
        Assert.Equal(new float[] { 0.5f, 1, 1.5f }, (a / 2).ToArray());
        Assert.Equal(new float[] { 6, 3, 2 }, (6 / a).ToArray());
        Assert.Equal(new float[] { 0, -1, -2 }, (1 - a).ToArray());
        var row = Tensor.FromArray([1, 2], 2);
        var m = Tensor.FromArray([1, 2, 3, 4, 5, 6], 3, 2);
        Assert.Equal(new float[] { 2, 4, 4, 6, 6, 8 }, (m + row).ToArray());
        var e = Assert.Throws<ArgumentException>(() => m + Tensor.Zeros(3));
        Assert.Contains("(3, 2)", e.Message);
        Assert.Contains("(3,)", e.Message);
    }

    [Fact]
    public void UnaryOpsMatchMath()
    {
        var x = Tensor.FromArray([0.5f, 1, 4], 3);
        Assert.Equal(new[] { MathF.Exp(0.5f), MathF.E, MathF.Exp(4) }, x.Exp().ToArray());
        Assert.Equal(new[] { MathF.Log(0.5f), 0, MathF.Log(4) }, x.Log().ToArray());
        Assert.Equal(new[] { MathF.Sqrt(0.5f), 1, 2 }, x.Sqrt().ToArray());
        Assert.Equal(new[] { 0.25f, 1, 16 }, x.Pow(2).ToArray());
        Assert.Equal(new[] { -0.5f, -1, -4 }, (-x).ToArray());
        Assert.Equal(new[] { 2f, 0, 3 }, Tensor.FromArray([-2, 0, 3], 3).Abs().ToArray());
        Assert.Equal(new[] { 1f, 1, 3 }, x.Clamp(1, 3).ToArray());
    }

    [Fact]
    public void ReductionsOverAllAndOneAxis()
    {
        var t = Tensor.FromArray([1, 5, 3, 4, 2, 6], 2, 3);
        Assert.Equal(21f, t.Sum().Item());
        Assert.Equal(3.5f, t.Mean().Item());
        Assert.Equal(new float[] { 5, 7, 9 }, t.Sum(0).ToArray());
        Assert.Equal(new float[] { 9, 12 }, t.Sum(1).ToArray());
        Assert.Equal(new Shape(2, 1), t.Sum(1, keepDim: true).Shape);
        Assert.Equal(new float[] { 3, 4 }, t.Mean(-1).ToArray());
        Assert.Equal(6f, t.Max().Item());
        Assert.Equal(5, t.ArgMax());
        Assert.Equal(new float[] { 5, 6 }, t.Max(1).ToArray());
        Assert.Equal(new[] { 1, 2 }, t.ArgMax(1));
        Assert.Equal(new[] { 1, 0, 1 }, t.ArgMax(0));
        Assert.Equal(0, Tensor.FromArray([2, 2, 1], 3).ArgMax());
    }

    [Fact]
    public void ReshapeAndSliceShareStorage()
    {
        var t = Tensor.Arange(12).Reshape(3, 4);
        var v = t.Reshape(2, -1);
        Assert.Equal(new Shape(2, 6), v.Shape);
        v.AsSpan()[0] = 100;
        Assert.Equal(100f, t[0, 0]);
        var rows = t.Slice(1, 3);
        Assert.Equal(new Shape(2, 4), rows.Shape);
        Assert.Equal(new float[] { 4, 5, 6, 7, 8, 9, 10, 11 }, rows.ToArray());
        rows.AsSpan()[0] = -1;
        Assert.Equal(-1f, t[1, 0]);
        Assert.Equal(new Shape(3, 4), Tensor.Zeros(3, 2, 2).Flatten(1).Shape);
        Assert.Equal(new Shape(3, 1, 4), t.Unsqueeze(1).Shape);
        Assert.Equal(new Shape(3, 4), t.Unsqueeze(1).Squeeze(1).Shape);
        Assert.Throws<ArgumentException>(() => t.Reshape(5, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(2, 4));
    }

    [Fact]
    public void TransposePermuteAndConcatMoveElements()
    {
        var t = Tensor.Arange(6).Reshape(2, 3);
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, t.Transpose(0, 1).ToArray());
        var c = Tensor.Arange(24).Reshape(2, 3, 4);
        var p = c.Permute(2, 0, 1);
        Assert.Equal(new Shape(4, 2, 3), p.Shape);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++) Assert.Equal(c[i, j, k], p[k, i, j]);
        var a = Tensor.FromArray([1, 2, 3, 4], 2, 2);
        var b = Tensor.FromArray([5, 6], 2, 1);
        Assert.Equal(new float[] { 1, 2, 5, 3, 4, 6 }, Tensor.Concat([a, b], 1).ToArray());
        Assert.Equal(new float[] { 1, 2, 3, 4, 1, 2, 3, 4 }, Tensor.Concat([a, a]).ToArray());
        Assert.Throws<ArgumentException>(() => Tensor.Concat([a, b], 0));
    }

    [Fact]
    public void MatMulMatchesHandProduct()
    {
        var a = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var b = Tensor.FromArray([7, 8, 9, 10, 11, 12], 3, 2);
        Assert.Equal(new float[] { 58, 64, 139, 154 }, a.MatMul(b).ToArray());
        var batch = Tensor.Concat([a.Unsqueeze(0), (a * 2).Unsqueeze(0)]);
        var bb = Tensor.Concat([b.Unsqueeze(0), b.Unsqueeze(0)]);
        Assert.Equal(new float[] { 58, 64, 139, 154, 116, 128, 278, 308 }, batch.MatMul(bb).ToArray());
        Assert.Equal(new float[] { 58, 64, 139, 154, 116, 128, 278, 308 }, batch.MatMul(b).ToArray());
        var e = Assert.Throws<ArgumentException>(() => a.MatMul(a));
        Assert.Contains("(2, 3)", e.Message);
    }

    [Fact]
    public void PrintsLikePyTorch()
    {
        Assert.Equal("tensor([1., 2., 3.])", Tensor.FromArray([1, 2, 3], 3).ToString());
        Assert.Equal("tensor([[ 1.5000, -2.0000],\n        [ 3.2500,  4.0000]])", Tensor.FromArray([1.5f, -2, 3.25f, 4], 2, 2).ToString());
        Assert.Equal("tensor(3.5000)", Tensor.Scalar(3.5f).ToString());
        Assert.Equal("tensor([1.0000e-05, 1.0000e+00])", Tensor.FromArray([1e-5f, 1], 2).ToString());
        Assert.Equal("tensor([   0.,    1.,    2.,  ..., 1997., 1998., 1999.])", Tensor.Arange(2000).ToString());
        var leaf = Tensor.Ones(2);
        leaf.RequiresGrad = true;
        Assert.Equal("tensor([1., 1.], requires_grad=True)", leaf.ToString());
        Assert.Equal("tensor([2., 2.], grad_fn=<MulBackward>)", (leaf * 2).ToString());
        Assert.Equal("tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])", Tensor.Arange(8).Reshape(2, 2, 2).ToString());
    }

    [Fact]
    public void ShapeBroadcastAndErrors()
    {
        Assert.Equal(new Shape(2, 3, 4), Shape.Broadcast(new Shape(3, 1), new Shape(2, 1, 4)));
        Assert.Equal("(2, 3)", new Shape(2, 3).ToString());
        Assert.Throws<ArgumentException>(() => new Shape(2, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(2, 3).NormalizeAxis(2));
    }
}
