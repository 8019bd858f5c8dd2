using Backprop.Keras;

namespace Backprop.Tests.Keras;

/// <summary>The added Keras losses against their formulas, computed by hand in double, and their gradients checked.</summary>
public class MarginAndDivergenceLossTests
{
    private const int B = 3, C = 4;

    private static readonly float[] Outputs = [0.2f, 0.7f, 0.05f, 0.05f, 0.6f, 0.1f, 0.1f, 0.2f, 0.3f, 0.3f, 0.35f, 0.05f];
    private static readonly float[] OneHot = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0];
    private static readonly float[] Regression = [1.5f, -0.2f, 0.4f, 3.0f, 0.1f, 0.25f, -1.0f, 0.3f, 0.9f, 0.0f, 2.5f, -0.6f];

    private static Tensor T(float[] values) => Tensor.FromArray((float[])values.Clone(), B, C);

    private static double Loss(string name, float[] output, float[] target) =>
        Losses.Compute(Losses.Validate(name), T(output), T(target), null, fromLogits: false).Item();

    /// <summary>Keras's reduction: a per-sample mean (or sum) over the last axis, then the batch mean.</summary>
    private static double PerElementMean(Func<double, double, double> f, float[] p, float[] y) =>
        Enumerable.Range(0, p.Length).Average(i => f(p[i], y[i]));

    [Fact]
    public void HingeConvertsZeroOneLabelsToSigns()
    {
        double expected = PerElementMean((p, y) => Math.Max(1 - (2 * y - 1) * p, 0), Outputs, OneHot);
        Assert.Equal(expected, Loss("hinge", Outputs, OneHot), 5);
        float[] signed = [.. OneHot.Select(v => 2 * v - 1)];
        Assert.Equal(expected, Loss("hinge", Outputs, signed), 5);
        double squared = PerElementMean((p, y) => Math.Pow(Math.Max(1 - (2 * y - 1) * p, 0), 2), Outputs, OneHot);
        Assert.Equal(squared, Loss("squared_hinge", Outputs, OneHot), 5);
    }

    [Fact]
    public void CategoricalHingeComparesTheTrueClassWithTheBestOther()
    {
        double expected = 0;
        for (int i = 0; i < B; i++)
        {
            double pos = 0, neg = double.NegativeInfinity;
            for (int j = 0; j < C; j++)
            {
                pos += OneHot[i * C + j] * Outputs[i * C + j];
                neg = Math.Max(neg, (1 - OneHot[i * C + j]) * Outputs[i * C + j]);
            }
            expected += Math.Max(neg - pos + 1, 0) / B;
        }
        Assert.Equal(expected, Loss("categorical_hinge", Outputs, OneHot), 5);
    }

    [Fact]
    public void HuberIsQuadraticInsideDeltaOneAndLinearOutside()
    {
        double expected = PerElementMean((p, y) =>
        {
            double e = Math.Abs(p - y);
            return e <= 1 ? 0.5 * e * e : e - 0.5;
        }, Regression, OneHot);
        Assert.Equal(expected, Loss("huber", Regression, OneHot), 5);
        Assert.Equal(expected, Loss("huber_loss", Regression, OneHot), 5);
    }

    [Fact]
    public void KlDivergenceClipsBothSidesAndSumsOverClasses()
    {
        float[] target = [0.1f, 0.6f, 0.2f, 0.1f, 1, 0, 0, 0, 0.25f, 0.25f, 0.25f, 0.25f];
        double expected = 0;
        for (int i = 0; i < target.Length; i++)
        {
            double y = Math.Clamp(target[i], 1e-7, 1), p = Math.Clamp(Outputs[i], 1e-7, 1);
            expected += y * Math.Log(y / p) / B;
        }
        Assert.Equal(expected, Loss("kl_divergence", Outputs, target), 5);
        Assert.Equal(expected, Loss("KLD", Outputs, target), 5);
        Assert.Equal("kl_divergence", Losses.Validate("kullback_leibler_divergence"));
    }

    [Fact]
    public void RegressionLossesMatchKerasFormulas()
    {
        float[] positive = [.. Regression.Select(v => Math.Abs(v) + 0.1f)];
        Assert.Equal(PerElementMean((p, y) => Math.Log(Math.Cosh(p - y)), Regression, OneHot), Loss("log_cosh", Regression, OneHot), 5);
        Assert.Equal(PerElementMean((p, y) => p - y * Math.Log(p + 1e-7), positive, OneHot), Loss("poisson", positive, OneHot), 5);
        Assert.Equal(PerElementMean((p, y) => Math.Pow(Math.Log(Math.Max(p, 1e-7) + 1) - Math.Log(Math.Max(y, 1e-7) + 1), 2), Regression, OneHot),
            Loss("msle", Regression, OneHot), 5);
        Assert.Equal(PerElementMean((p, y) => 100 * Math.Abs(y - p) / Math.Max(Math.Abs(y), 1e-7), Outputs, positive),
            Loss("mape", Outputs, positive), 3);
        double cosine = 0;
        for (int i = 0; i < B; i++)
        {
            double dot = 0, np = 0, ny = 0;
            for (int j = 0; j < C; j++)
            {
                double p = Regression[i * C + j], y = Outputs[i * C + j];
                dot += p * y; np += p * p; ny += y * y;
            }
            cosine -= dot / Math.Sqrt(np * ny) / B;
        }
        Assert.Equal(cosine, Loss("cosine_similarity", Regression, Outputs), 5);
    }

    [Theory]
    [InlineData("hinge")]
    [InlineData("squared_hinge")]
    [InlineData("categorical_hinge")]
    [InlineData("huber")]
    [InlineData("kl_divergence")]
    [InlineData("log_cosh")]
    [InlineData("poisson")]
    [InlineData("msle")]
    [InlineData("mape")]
    [InlineData("cosine_similarity")]
    public void GradientsMatchFiniteDifferences(string loss)
    {
        var output = Tensor.Rand(new Generator(11), B, C) * 0.8f + 0.1f;   // away from the clips
        output = output.Detach();
        output.RequiresGrad = true;
        var target = loss is "huber" or "log_cosh" or "msle" ? Tensor.Randn(new Generator(12), B, C) * 2f
            : loss == "mape" ? Tensor.Rand(new Generator(13), B, C) + 0.5f
            : loss == "kl_divergence" ? Tensor.Rand(new Generator(14), B, C)
            : T(OneHot);
        target = target.Detach();
        GradientCheck.Check(t => Losses.Compute(loss, t[0], target, null, fromLogits: false), [output], label: loss);
    }

    [Fact]
    public void UnknownLossListsTheNewNames()
    {
        var e = Assert.Throws<ArgumentException>(() => Losses.Validate("focal"));
        Assert.Contains("huber", e.Message);
    }
}
