using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class LinearTests(ITestOutputHelper output)
{
    private static double[] ReferenceLinear(Tensor x, Tensor w, Tensor? b)
    {
        int outF = w.Shape[0], inF = w.Shape[1], rows = x.Length / inF;
        float[] xd = x.ToArray(), wd = w.ToArray();
        float[]? bd = b?.ToArray();
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = bd is null ? 0 : bd[o];
                for (int i = 0; i < inF; i++) s += (double)xd[r * inF + i] * wd[o * inF + i];
                y[r * outF + o] = s;
            }
        return y;
    }

    [Theory]
    [InlineData(new[] { 3, 5 }, true)]
    [InlineData(new[] { 3, 5 }, false)]
    [InlineData(new[] { 2, 3, 5 }, true)]
    [InlineData(new[] { 2, 3, 5 }, false)]
    [InlineData(new[] { 1, 5 }, true)]
    public void ForwardAndGradients(int[] inputShape, bool bias)
    {
        var g = new Generator(51);
        var x = Leaf(g, inputShape);
        var w = Leaf(g, 4, 5);
        var b = bias ? Leaf(g, 4) : null;
        var y = Backprop.Functional.Linear(x, w, b);
        var expectedShape = (int[])inputShape.Clone();
        expectedShape[^1] = 4;
        Assert.Equal(new Shape(expectedShape), y.Shape);
        AssertClose(ReferenceLinear(x, w, b), y.ToArray(), 1e-5, "linear");
        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        GradientCheck.Check(xs => Backprop.Functional.Linear(xs[0], xs[1], xs.Length > 2 ? xs[2] : null), inputs, output,
            $"linear {new Shape(inputShape)} bias={bias}", ["input", "weight", "bias"]);
    }

    [Fact]
    public void HandWorkedExample()
    {
        var x = Tensor.FromArray([1f, 2f], 1, 2);
        var w = Tensor.FromArray([1f, 0f, 0f, 1f, 1f, 1f], 3, 2);
        var y = Backprop.Functional.Linear(x, w, Tensor.FromArray([0f, 10f, -1f]));
        Assert.Equal([1f, 12f, 2f], y.ToArray());
    }

    [Fact]
    public void AWeightGradientAddsIntoTheOneTheWeightHasWithTheSameBits()
    {
        // Once the weight has a gradient, the backward pass adds dW into it inside the product (beta = 1) instead of
        // returning a dW to accumulate: for a blocked product over one depth block (a batch of 64 here, as LeNet's
        // layers), the same bits as adding a separate dW.
        var g = new Generator(52);
        var x = Leaf(g, 64, 48);
        var w = Leaf(g, 40, 48);
        var dy = Leaf(g, 64, 40).Detach();
        Backprop.Functional.Linear(x, w).Backward(dy);   // no gradient yet: dW is returned and stored
        float[] once = w.Grad!.ToArray();
        var gradient = w.Grad;
        Backprop.Functional.Linear(x, w).Backward(dy);   // added in place
        Assert.Same(gradient, w.Grad);
        float[] twice = w.Grad!.ToArray();
        for (int i = 0; i < once.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(once[i] + once[i]), BitConverter.SingleToInt32Bits(twice[i]));
        w.ZeroGrad(setToNone: false);
        Backprop.Functional.Linear(x, w).Backward(dy);
        Assert.Equal(once, w.Grad!.ToArray());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(300)]   // more rows than one depth block (Gemm.Kc) of the weight gradient's product
    public void GradientCheckWhereTheWeightAlreadyHoldsAGradient(int rows)
    {
        // The first backward stores dW; the checked one adds dW into it inside its product (beta = 1), returning
        // nothing for the weight. The checker compares what was added with the numeric gradient.
        var g = new Generator(55);
        var x = Leaf(g, rows, 5);
        var w = Leaf(g, 4, 5);
        var b = Leaf(g, 4);
        Backprop.Functional.Linear(x, w, b).Backward(Tensor.Randn(new Generator(56), rows, 4));
        var previous = w.Grad;
        Assert.NotNull(previous);
        GradientCheck.Check(xs => Backprop.Functional.Linear(xs[0], xs[1], xs[2]), [x, w, b], output,
            $"linear rows={rows} into existing gradients", ["input", "weight", "bias"], intoExistingGradients: true);
        Assert.Same(previous, w.Grad);   // added in place: the in-place path ran
    }

    [Fact]
    public void MismatchedShapesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => Backprop.Functional.Linear(Tensor.Zeros(2, 4), Tensor.Zeros(3, 5)));
        Assert.Throws<ArgumentException>(() => Backprop.Functional.Linear(Tensor.Zeros(2, 5), Tensor.Zeros(3, 5), Tensor.Zeros(4)));
    }

    [Fact]
    public void DropoutGradientWithARepeatedMask()
    {
        var x = Leaf(new Generator(52), 2, 3, 4, 3);
        GradientCheck.Check((xs, gen) => Backprop.Functional.Dropout(xs[0], 0.3f, true, gen), () => new Generator(99), [x], output, "dropout p=0.3", ["input"]);
    }

    [Fact]
    public void DropoutZeroesAndScales()
    {
        const float p = 0.25f;
        var x = Tensor.Uniform(new Generator(53), 1f, 2f, 100, 100);
        var y = Backprop.Functional.Dropout(x, p, true, new Generator(54));
        float[] xd = x.ToArray(), yd = y.ToArray();
        int dropped = 0;
        for (int i = 0; i < xd.Length; i++)
        {
            if (yd[i] == 0) dropped++;
            else Assert.Equal(xd[i] / (1 - p), yd[i], 1e-5f * yd[i]);
        }
        Assert.InRange(dropped / (double)xd.Length, p - 0.02, p + 0.02);
        // Same generator seed, same mask; evaluation and p = 0 are the identity.
        Assert.Equal(yd, Backprop.Functional.Dropout(x, p, true, new Generator(54)).ToArray());
        Assert.Same(x, Backprop.Functional.Dropout(x, p, false));
        Assert.Equal(xd, Backprop.Functional.Dropout(x, 0f, true, new Generator(1)).ToArray());
        Assert.All(Backprop.Functional.Dropout(x, 1f, true, new Generator(1)).ToArray(), v => Assert.Equal(0f, v));
    }
}
