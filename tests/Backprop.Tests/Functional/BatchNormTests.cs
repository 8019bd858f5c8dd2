using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class BatchNormTests(ITestOutputHelper output)
{
    /// <summary>Per-channel normalization from the definition (double): batch mean and biased variance in training, the given statistics otherwise.</summary>
    private static double[] Reference(Tensor x, double[]? mean, double[]? variance, Tensor? w, Tensor? b, double eps, out double[] batchMean, out double[] unbiasedVar)
    {
        int n = x.Shape[0], c = x.Shape[1], inner = x.Length / (n * c), count = n * inner;
        float[] xd = x.ToArray();
        batchMean = new double[c];
        unbiasedVar = new double[c];
        var y = new double[xd.Length];
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < inner; j++) s += xd[(i * c + ch) * inner + j];
            double m = s / count, ss = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < inner; j++) ss += Math.Pow(xd[(i * c + ch) * inner + j] - m, 2);
            batchMean[ch] = m;
            unbiasedVar[ch] = ss / (count - 1);
            double useMean = mean?[ch] ?? m, useVar = variance?[ch] ?? ss / count;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < inner; j++)
                {
                    int at = (i * c + ch) * inner + j;
                    y[at] = (xd[at] - useMean) / Math.Sqrt(useVar + eps) * (w is null ? 1 : w[ch]) + (b is null ? 0 : b[ch]);
                }
        }
        return y;
    }

    [Fact]
    public void TrainingForwardUsesBatchStatisticsAndUpdatesRunningOnes()
    {
        var g = new Generator(61);
        var x = Tensor.Normal(g, 3f, 2f, 3, 2, 3, 4);
        var w = Tensor.Uniform(g, 0.5f, 1.5f, 2);
        var b = Tensor.Randn(g, 2);
        var rm = Tensor.FromArray([0.5f, -1f]);
        var rv = Tensor.FromArray([2f, 0.5f]);
        var y = Backprop.Functional.BatchNorm(x, rm, rv, w, b, training: true, momentum: 0.1f, eps: 1e-5f);
        AssertClose(Reference(x, null, null, w, b, 1e-5, out var bm, out var uv), y.ToArray(), 1e-5, "batch norm (train)");
        AssertClose(new[] { 0.9 * 0.5 + 0.1 * bm[0], 0.9 * -1 + 0.1 * bm[1] }, rm.ToArray(), 1e-5, "running mean");
        AssertClose(new[] { 0.9 * 2 + 0.1 * uv[0], 0.9 * 0.5 + 0.1 * uv[1] }, rv.ToArray(), 1e-5, "running var (unbiased)");
    }

    [Fact]
    public void EvalForwardUsesRunningStatistics()
    {
        var g = new Generator(62);
        var x = Tensor.Randn(g, 2, 3, 2, 3);
        var w = Tensor.Uniform(g, 0.5f, 1.5f, 3);
        var b = Tensor.Randn(g, 3);
        var rm = Tensor.FromArray([0.5f, -1f, 0f]);
        var rv = Tensor.FromArray([2f, 0.5f, 1f]);
        var y = Backprop.Functional.BatchNorm(x, rm, rv, w, b, training: false);
        AssertClose(Reference(x, [0.5, -1, 0], [2, 0.5, 1], w, b, 1e-5, out _, out _), y.ToArray(), 1e-5, "batch norm (eval)");
        Assert.Equal([0.5f, -1f, 0f], rm.ToArray());
        Assert.Equal([2f, 0.5f, 1f], rv.ToArray());
    }

    [Theory]
    [InlineData(true, true, true)]
    [InlineData(false, true, true)]
    [InlineData(true, false, false)]
    [InlineData(true, false, true)]
    [InlineData(false, false, true)]
    [InlineData(true, true, false)]
    public void GradientsMatchFiniteDifferences(bool training, bool withWeight, bool withBias)
    {
        var g = new Generator(63);
        var x = Tensor.Normal(g, 1f, 1.5f, 2, 3, 3, 2);
        x.RequiresGrad = true;
        var w = withWeight ? UniformLeaf(g, 0.5f, 1.5f, 3) : null;
        var b = withBias ? Leaf(g, 3) : null;
        var rm = Tensor.FromArray([0.2f, -0.3f, 1f]);
        var rv = Tensor.FromArray([1.5f, 0.7f, 2f]);
        var inputs = new List<Tensor> { x };
        var names = new List<string> { "input" };
        if (w is not null) { inputs.Add(w); names.Add("weight"); }
        if (b is not null) { inputs.Add(b); names.Add("bias"); }
        GradientCheck.Check(xs =>
        {
            // Fresh running statistics each call, so evaluation mode normalizes by the same numbers every time.
            var m = rm.Clone();
            var v = rv.Clone();
            return Backprop.Functional.BatchNorm(xs[0], m, v, withWeight ? xs[1] : null, withBias ? xs[^1] : null, training);
        }, inputs.ToArray(), output, $"batch norm training={training} weight={withWeight} bias={withBias}", names.ToArray());
    }

    [Fact]
    public void TwoDimensionalInput()
    {
        var x = Leaf(new Generator(64), 5, 3);
        var w = UniformLeaf(new Generator(65), 0.5f, 1.5f, 3);
        var b = Leaf(new Generator(66), 3);
        var y = Backprop.Functional.BatchNorm(x, Tensor.Zeros(3), Tensor.Ones(3), w, b, true);
        AssertClose(Reference(x, null, null, w, b, 1e-5, out _, out _), y.ToArray(), 1e-5, "batch norm (N, C)");
        GradientCheck.Check(xs => Backprop.Functional.BatchNorm(xs[0], Tensor.Zeros(3), Tensor.Ones(3), xs[1], xs[2], true), [x, w, b], output,
            "batch norm (N, C)", ["input", "weight", "bias"]);
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        var x = Tensor.Zeros(2, 3, 2, 2);
        Assert.Throws<ArgumentException>(() => Backprop.Functional.BatchNorm(x, Tensor.Zeros(2), Tensor.Ones(3), null, null, true));
        Assert.Throws<ArgumentException>(() => Backprop.Functional.BatchNorm(Tensor.Zeros(1, 3), Tensor.Zeros(3), Tensor.Ones(3), null, null, true));
    }
}
