namespace Backprop;

// Elementwise activations whose gradient composition would get wrong at a kink (PReLU at 0), compute
// wastefully (ELU, softplus), or must refuse (a step). Plain loops: each is the definition, forward then backward.
public static partial class Functional
{
    /// <summary>
    /// Parametric ReLU (Caffe's PReLU, PyTorch's <c>prelu</c>): y = x for x &gt; 0, a·x otherwise, where a is
    /// <paramref name="weight"/>[c] for channel c (axis 1), or its single value when it has one element.
    /// Gradients: dx = dy for x &gt; 0, a·dy otherwise (a·dy at 0); da = Σ dy·x over x ≤ 0.
    /// </summary>
    /// <param name="input">x: (N, C, ...), rank 2 or more (rank 1 with a one-element weight).</param>
    /// <param name="weight">a: C values, or one value shared by all channels.</param>
    public static Tensor Prelu(Tensor input, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        int channels = input.Rank >= 2 ? input.Shape[1] : 1;
        if (weight.Length != 1 && weight.Length != channels)
            throw new ArgumentException($"Prelu: the weight has {weight.Length} values; it needs 1 or one per channel ({channels}) of the input {input.Shape}.");
        bool shared = weight.Length == 1;
        int outer = input.Rank >= 2 ? input.Shape[0] : 1;
        int inner = input.Length / Math.Max(outer * channels, 1);
        var y = Tensor.Uninitialized(input.Shape);
        var x = input.Data;
        var a = weight.Data;
        var yd = y.AsSpan();
        // x: (outer, channels, inner)
        for (int i = 0; i < yd.Length; i++)
        {
            float slope = a[shared ? 0 : i / inner % channels];
            yd[i] = x[i] > 0 ? x[i] : slope * x[i];
        }
        return Tensor.Record(y, "PreluBackward", (dy, needs) =>
        {
            var g = dy.Data;
            var xs = input.Data;
            var aa = weight.Data;
            Tensor? dx = null, da = null;
            if (needs[0])
            {
                dx = Tensor.Uninitialized(input.Shape);
                var d = dx.AsSpan();
                for (int i = 0; i < d.Length; i++)
                    d[i] = xs[i] > 0 ? g[i] : aa[shared ? 0 : i / inner % channels] * g[i];
            }
            if (needs[1])
            {
                da = Tensor.Result(weight.Shape);
                var d = da.AsSpan();
                for (int i = 0; i < xs.Length; i++)
                    if (xs[i] <= 0) d[shared ? 0 : i / inner % channels] += g[i] * xs[i];
            }
            return [dx, da];
        }, input, weight);
    }

    /// <summary>
    /// Exponential linear unit: y = x for x &gt; 0, α·(eˣ − 1) otherwise. dx = dy for x &gt; 0, dy·(y + α) otherwise
    /// (Caffe's and PyTorch's rule; the right-hand value at 0).
    /// </summary>
    public static Tensor Elu(Tensor input, float alpha = 1f)
    {
        ArgumentNullException.ThrowIfNull(input);
        var y = Tensor.Uninitialized(input.Shape);
        var x = input.Data;
        var yd = y.AsSpan();
        for (int i = 0; i < yd.Length; i++) yd[i] = x[i] > 0 ? x[i] : alpha * (MathF.Exp(x[i]) - 1);
        return Tensor.Record(y, "EluBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            var d = dx.AsSpan();
            var g = dy.Data;
            var xs = input.Data;
            var ys = y.Data;
            for (int i = 0; i < d.Length; i++) d[i] = xs[i] > 0 ? g[i] : g[i] * (ys[i] + alpha);
            return [dx];
        }, input);
    }

    /// <summary>
    /// Softplus, log(1 + eˣ) (Caffe's BNLL), computed without overflow as x + log(1 + e⁻ˣ) for x &gt; 0.
    /// dx = dy·σ(x).
    /// </summary>
    public static Tensor Softplus(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var y = Tensor.Uninitialized(input.Shape);
        var x = input.Data;
        var yd = y.AsSpan();
        for (int i = 0; i < yd.Length; i++)
            yd[i] = x[i] > 0 ? x[i] + MathF.Log(1 + MathF.Exp(-x[i])) : MathF.Log(1 + MathF.Exp(x[i]));
        return Tensor.Record(y, "SoftplusBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            var d = dx.AsSpan();
            var g = dy.Data;
            var xs = input.Data;
            for (int i = 0; i < d.Length; i++) d[i] = g[i] / (1 + MathF.Exp(-xs[i]));
            return [dx];
        }, input);
    }

    /// <summary>
    /// The step function: 1 where x &gt; <paramref name="threshold"/>, 0 elsewhere (NaN gives 0). It has no useful
    /// gradient, and like Caffe's Threshold layer it refuses one: a backward pass that reaches it (its input needs a
    /// gradient and its output feeds the loss) throws <see cref="InvalidOperationException"/> naming <paramref name="what"/>,
    /// instead of silently training nothing below it. Detach the input to use it inside a trained graph.
    /// </summary>
    public static Tensor Step(Tensor input, float threshold = 0f, string what = "Step")
    {
        ArgumentNullException.ThrowIfNull(input);
        var y = Tensor.Uninitialized(input.Shape);
        var x = input.Data;
        var yd = y.AsSpan();
        for (int i = 0; i < yd.Length; i++) yd[i] = x[i] > threshold ? 1f : 0f;
        return Tensor.Record(y, "StepBackward", (_, _) => throw new InvalidOperationException(
            $"{what} has no gradient (a step function), but backward reached it; stop the gradient before it (in Caffe: propagate_down: false on its bottom)."), input);
    }
}
