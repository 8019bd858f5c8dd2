using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>max(x, 0). The gradient at 0 is 0.</summary>
    public static Tensor Relu(Tensor input)
    {
        var y = Tensor.Uninitialized(input.Shape);
        Activations.ReluForward(input.Data, y.AsSpan());
        return Tensor.Record(y, "ReluBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            Activations.ReluBackward(input.Data, dy.Data, dx.AsSpan());
            return [dx];
        }, input);
    }

    /// <summary>
    /// <c>Relu(a + b)</c> for tensors of one shape as one op, with the same bits: a residual block's sum is never stored
    /// (backward masks by the output, which the next layer keeps anyway).
    /// </summary>
    public static Tensor AddRelu(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Shape != b.Shape) throw new ArgumentException($"AddRelu needs tensors of one shape, got {a.Shape} and {b.Shape} (use Relu(a + b) to broadcast).");
        var y = Tensor.Uninitialized(a.Shape);
        Activations.AddReluForward(a.Data, b.Data, y.AsSpan());
        return Tensor.Record(y, "AddReluBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(a.Shape);
            Activations.ReluBackward(y.Data, dy.Data, dx.AsSpan());   // y > 0 exactly where a + b > 0
            return [dx, dx];
        }, a, b);
    }

    /// <summary>x for x &gt; 0, <paramref name="negativeSlope"/>·x otherwise (Caffe's ReLU with negative_slope).</summary>
    public static Tensor LeakyRelu(Tensor input, float negativeSlope = 0.01f)
    {
        var y = Tensor.Uninitialized(input.Shape);
        Activations.LeakyReluForward(input.Data, negativeSlope, y.AsSpan());
        return Tensor.Record(y, "LeakyReluBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            Activations.LeakyReluBackward(input.Data, dy.Data, negativeSlope, dx.AsSpan());
            return [dx];
        }, input);
    }

    /// <summary>1 / (1 + e^−x).</summary>
    public static Tensor Sigmoid(Tensor input)
    {
        var y = Tensor.Uninitialized(input.Shape);
        Activations.SigmoidForward(input.Data, y.AsSpan());
        return Tensor.Record(y, "SigmoidBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            Activations.SigmoidBackward(y.Data, dy.Data, dx.AsSpan());
            return [dx];
        }, input);
    }

    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor input)
    {
        var y = Tensor.Uninitialized(input.Shape);
        Activations.TanhForward(input.Data, y.AsSpan());
        return Tensor.Record(y, "TanhBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            Activations.TanhBackward(y.Data, dy.Data, dx.AsSpan());
            return [dx];
        }, input);
    }

    /// <summary>e^x / Σ e^x along <paramref name="axis"/>, stable for large logits.</summary>
    public static Tensor Softmax(Tensor input, int axis = -1) => SoftmaxCore(input, axis, log: false);

    /// <summary>x − log Σ e^x along <paramref name="axis"/>; finite for logits of ±1000.</summary>
    public static Tensor LogSoftmax(Tensor input, int axis = -1) => SoftmaxCore(input, axis, log: true);

    private static Tensor SoftmaxCore(Tensor input, int axis, bool log)
    {
        var (outer, n, inner) = SplitAxis(input.Shape, axis);
        var y = Tensor.Uninitialized(input.Shape);
        Kernels.Softmax.Forward(input.Data, outer, n, inner, y.AsSpan(), log);
        return Tensor.Record(y, log ? "LogSoftmaxBackward" : "SoftmaxBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            Kernels.Softmax.Backward(y.Data, dy.Data, outer, n, inner, dx.AsSpan(), log);
            return [dx];
        }, input);
    }

    /// <summary>Views a shape as (outer, n, inner) around <paramref name="axis"/>.</summary>
    internal static (int Outer, int N, int Inner) SplitAxis(Shape shape, int axis)
    {
        int a = shape.NormalizeAxis(axis);
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= shape[i];
        for (int i = a + 1; i < shape.Rank; i++) inner *= shape[i];
        return (outer, shape[a], inner);
    }
}
