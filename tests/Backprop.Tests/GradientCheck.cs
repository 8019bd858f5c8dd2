using System.Globalization;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Backprop.Tests;

/// <summary>
/// Caffe-style gradient checker (test_gradient_check_util.hpp): central differences of
/// L = Σ y·r for a random upstream gradient r, every element of every input that requires a gradient
/// perturbed by ±step, compared with the analytic gradient within threshold·max(|a|, |n|, 1).
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// Checks the gradients of <paramref name="f"/> with respect to every input that requires a gradient.
    /// Returns the largest scaled difference |a − n| / max(|a|, |n|, 1) seen.
    /// </summary>
    /// <param name="f">The op; called once with grad mode on, then twice per perturbed element under no-grad.</param>
    /// <param name="inputs">Leaves; those with <c>RequiresGrad</c> are checked, the rest are held fixed.</param>
    /// <param name="output">Where the "grad OK" lines go.</param>
    /// <param name="label">What is being checked, e.g. "conv 3x3 pad 1".</param>
    /// <param name="names">A name per input for messages (default "input 0", "input 1", ...).</param>
    /// <param name="step">The perturbation (smaller where a kink is close).</param>
    /// <param name="threshold">Relative tolerance.</param>
    /// <param name="seed">Seed of the random upstream gradient.</param>
    /// <param name="beforeForward">Runs before every forward (to reseed a generator, e.g. for dropout).</param>
    /// <param name="skip">Elements not to check, by (input index, element index), e.g. at a kink.</param>
    /// <param name="intoExistingGradients">
    /// Keep the gradients the inputs already hold (each input checked must hold one, e.g. from a previous backward) and
    /// check what backward adds to them: grad after − grad before against the numeric gradient. This is the path where an
    /// op adds into a leaf's gradient itself (Linear's weight, beta = 1 in its product) instead of returning one.
    /// </param>
    public static double Check(Func<Tensor[], Tensor> f, Tensor[] inputs, ITestOutputHelper? output = null, string label = "op",
        string[]? names = null, double step = 1e-2, double threshold = 1e-2, ulong seed = 1234,
        Action? beforeForward = null, Func<int, int, bool>? skip = null, bool intoExistingGradients = false)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(inputs);
        var before = new float[inputs.Length][];
        for (int t = 0; t < inputs.Length; t++)
        {
            Tensor x = inputs[t];
            if (!intoExistingGradients) x.ZeroGrad();
            else if (x.RequiresGrad)
                before[t] = x.Grad?.ToArray() ?? throw new XunitException(
                    $"{label}: input {t} holds no gradient; give it one (a previous backward) before checking that backward adds into it.");
        }

        beforeForward?.Invoke();
        Tensor y = f(inputs);
        var r = Tensor.Randn(new Generator(seed), y.Shape.ToArray());
        y.Backward(r);
        float[] rd = r.ToArray();

        double Loss()
        {
            beforeForward?.Invoke();
            Tensor yy;
            using (Autograd.Autograd.NoGrad()) yy = f(inputs);
            if (yy.Shape != r.Shape) throw new XunitException($"{label}: output shape changed from {r.Shape} to {yy.Shape} between calls.");
            float[] yd = yy.ToArray();
            double s = 0;
            for (int i = 0; i < yd.Length; i++) s += (double)yd[i] * rd[i];
            return s;
        }

        bool checkedAny = false;
        double worst = 0;
        for (int t = 0; t < inputs.Length; t++)
        {
            Tensor x = inputs[t];
            if (!x.RequiresGrad) continue;
            string name = names is not null && t < names.Length ? names[t] : "input " + t.ToString(CultureInfo.InvariantCulture);
            float[] analytic = x.Grad?.ToArray() ?? new float[x.Length];
            if (analytic.Length != x.Length)
                throw new XunitException($"{label}: gradient of {name} has {analytic.Length} elements, the input {x.Length}.");
            if (before[t] is { } previous)
            {
                // What this backward added; float32 rounding of the sum is far below the threshold.
                for (int i = 0; i < analytic.Length; i++) analytic[i] -= previous[i];
                name += " (added to its existing gradient)";
            }
            double worstHere = 0;
            var data = x.AsSpan();
            for (int i = 0; i < x.Length; i++)
            {
                if (skip is not null && skip(t, i)) continue;
                float original = data[i];
                x.AsSpan()[i] = (float)(original + step);
                double plus = Loss();
                x.AsSpan()[i] = (float)(original - step);
                double minus = Loss();
                x.AsSpan()[i] = original;
                double numeric = (plus - minus) / (2 * step);
                double a = analytic[i];
                double scale = Math.Max(Math.Max(Math.Abs(a), Math.Abs(numeric)), 1.0);
                double diff = Math.Abs(a - numeric) / scale;
                if (!(diff <= threshold))
                    throw new XunitException(
                        $"{label}: gradient of {name} (input {t}) at element {i} {Index(x.Shape, i)}: analytic {a:G6}, numeric {numeric:G6} " +
                        $"(scaled difference {diff:G3} > threshold {threshold:G3}).");
                worstHere = Math.Max(worstHere, diff);
                checkedAny = true;
            }
            worst = Math.Max(worst, worstHere);
            output?.WriteLine($"{label} {name} grad OK, max diff {worstHere:G2}");
        }
        if (!checkedAny) throw new XunitException($"{label}: no input requires a gradient, nothing was checked.");
        return worst;
    }

    /// <summary>
    /// As <see cref="Check(Func{Tensor[], Tensor}, Tensor[], ITestOutputHelper?, string, string[], double, double, ulong, Action?, Func{int, int, bool}?)"/>
    /// for a random op: <paramref name="makeGenerator"/> builds a fresh generator before every forward, so the op draws the same numbers each time.
    /// </summary>
    public static double Check(Func<Tensor[], Generator, Tensor> f, Func<Generator> makeGenerator, Tensor[] inputs, ITestOutputHelper? output = null,
        string label = "op", string[]? names = null, double step = 1e-2, double threshold = 1e-2, ulong seed = 1234, Func<int, int, bool>? skip = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(makeGenerator);
        return Check(xs => f(xs, makeGenerator()), inputs, output, label, names, step, threshold, seed, null, skip);
    }

    private static string Index(Shape shape, int flat)
    {
        var idx = new int[shape.Rank];
        for (int d = shape.Rank - 1; d >= 0; d--)
        {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return "(" + string.Join(", ", idx) + ")";
    }
}

/// <summary>Inputs for gradient checks and reference comparisons.</summary>
public static class TestTensors
{
    /// <summary>A leaf that requires a gradient, with standard normal values.</summary>
    public static Tensor Leaf(Generator g, params int[] shape)
    {
        var t = Tensor.Randn(g, shape);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>A leaf that requires a gradient, with uniform values in [low, high).</summary>
    public static Tensor UniformLeaf(Generator g, float low, float high, params int[] shape)
    {
        var t = Tensor.Uniform(g, low, high, shape);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>Normal values pushed at least <paramref name="margin"/> away from <paramref name="kink"/>.</summary>
    public static Tensor AwayFrom(Generator g, float kink, float margin, params int[] shape)
    {
        var t = Tensor.Randn(g, shape);
        var d = t.AsSpan();
        for (int i = 0; i < d.Length; i++)
        {
            float v = d[i] - kink;
            d[i] = kink + (v >= 0 ? v + margin : v - margin);
        }
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>
    /// A leaf batch of two images, (2, C, H, W), the second the first negated, its values at least <paramref name="margin"/>
    /// from 0: each channel's batch mean is 0 and every value is at least margin/std from it after BatchNorm, so a ReLU
    /// after BatchNorm keeps its kink far from the small steps of a gradient check.
    /// </summary>
    public static Tensor MirroredBatch(Generator g, float margin, int channels, int height, int width)
    {
        var half = AwayFrom(g, 0f, margin, 1, channels, height, width).ToArray();
        var x = Tensor.FromArray([.. half, .. half.Select(v => -v)], 2, channels, height, width);
        x.RequiresGrad = true;
        return x;
    }

    /// <summary>A shuffled set of distinct values spaced <paramref name="spacing"/> apart and centred on 0 (no ties within a small step).</summary>
    public static Tensor Distinct(Generator g, float spacing, params int[] shape)
    {
        var s = new Shape(shape);
        int[] perm = g.Permutation(s.Length);
        var d = new float[s.Length];
        for (int i = 0; i < d.Length; i++) d[i] = (perm[i] - s.Length / 2f) * spacing;
        var t = Tensor.FromArray(d, shape);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>Asserts two float arrays agree elementwise within |a − e| ≤ tol·max(1, |e|), naming the first mismatch.</summary>
    public static void AssertClose(double[] expected, float[] actual, double tol, string what = "value")
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= tol * Math.Max(1, Math.Abs(expected[i]))))
                throw new XunitException($"{what}: element {i} is {actual[i]:G8}, expected {expected[i]:G8} (tolerance {tol:G2}).");
    }

    public static void AssertClose(float[] expected, float[] actual, double tol, string what = "value") =>
        AssertClose(Array.ConvertAll(expected, v => (double)v), actual, tol, what);
}
