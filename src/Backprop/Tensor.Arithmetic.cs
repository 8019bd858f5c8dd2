using Backprop.Kernels;
using System.Numerics.Tensors;

namespace Backprop;

// Broadcasting arithmetic. Each op's backward rule sits beside its forward; gradients of a
// broadcast operand are summed back to its shape.
public partial class Tensor
{
    private static Tensor Broadcast<TOp>(Tensor a, Tensor b) where TOp : IBinaryOperator
    {
        var shape = Shape.Broadcast(a.Shape, b.Shape);
        var y = Tensor.Uninitialized(shape);
        Broadcasting.Binary<TOp>(a.Data, a.Shape.Dims, b.Data, b.Shape.Dims, shape.Dims, y.AsSpan());
        return y;
    }

    /// <summary><paramref name="g"/> summed over the dimensions that broadcasting added to <paramref name="shape"/>.</summary>
    internal static Tensor SumTo(Tensor g, Shape shape)
    {
        if (g.Shape == shape) return g;
        var y = Tensor.Result(shape);
        Broadcasting.SumTo(g.Data, g.Shape.Dims, shape.Dims, y.AsSpan());
        return y;
    }

    public static Tensor operator +(Tensor a, Tensor b)
    {
        var y = Broadcast<AddOperator>(a, b);
        return Record(y, "AddBackward", (g, needs) => [needs[0] ? SumTo(g, a.Shape) : null, needs[1] ? SumTo(g, b.Shape) : null], a, b);
    }

    public static Tensor operator -(Tensor a, Tensor b)
    {
        var y = Broadcast<SubtractOperator>(a, b);
        return Record(y, "SubBackward", (g, needs) => [needs[0] ? SumTo(g, a.Shape) : null, needs[1] ? SumTo(-g, b.Shape) : null], a, b);
    }

    public static Tensor operator *(Tensor a, Tensor b)
    {
        var y = Broadcast<MultiplyOperator>(a, b);
        return Record(y, "MulBackward", (g, needs) => [needs[0] ? SumTo(g * b, a.Shape) : null, needs[1] ? SumTo(g * a, b.Shape) : null], a, b);
    }

    public static Tensor operator /(Tensor a, Tensor b)
    {
        var y = Broadcast<DivideOperator>(a, b);
        return Record(y, "DivBackward", (g, needs) =>
            [needs[0] ? SumTo(g / b, a.Shape) : null, needs[1] ? SumTo(-g * a / (b * b), b.Shape) : null], a, b);
    }

    public static Tensor operator +(Tensor a, float s) => Map(a, "AddBackward", y => TensorPrimitives.Add(a.Data, s, y), g => g);
    public static Tensor operator +(float s, Tensor a) => a + s;
    public static Tensor operator -(Tensor a, float s) => Map(a, "SubBackward", y => TensorPrimitives.Subtract(a.Data, s, y), g => g);
    public static Tensor operator -(float s, Tensor a) => Map(a, "RsubBackward", y => TensorPrimitives.Subtract(s, a.Data, y), g => -g);
    public static Tensor operator *(Tensor a, float s) => Map(a, "MulBackward", y => TensorPrimitives.Multiply(a.Data, s, y), g => g * s);
    public static Tensor operator *(float s, Tensor a) => a * s;
    public static Tensor operator /(Tensor a, float s) => Map(a, "DivBackward", y => TensorPrimitives.Divide(a.Data, s, y), g => g / s);
    public static Tensor operator /(float s, Tensor a) => Map(a, "DivBackward", y => TensorPrimitives.Divide(s, a.Data, y), g => -s * g / (a * a));
    public static Tensor operator -(Tensor a) => Map(a, "NegBackward", y => TensorPrimitives.Negate(a.Data, y), g => -g);

    /// <summary>A unary op: <paramref name="forward"/> fills the result; <paramref name="backward"/> maps the output gradient to the input's.</summary>
    private static Tensor Map(Tensor a, string name, SpanAction forward, Func<Tensor, Tensor> backward)
    {
        var y = Tensor.Uninitialized(a.Shape);
        forward(y.AsSpan());
        return Record(y, name, (g, _) => [backward(g)], a);
    }

    private delegate void SpanAction(Span<float> destination);

    /// <summary>e^x.</summary>
    public Tensor Exp()
    {
        Tensor x = this;
        Tensor? y = null;
        y = Map(x, "ExpBackward", d => TensorPrimitives.Exp(x.Data, d), g => g * y!.Detach());
        return y;
    }

    /// <summary>Natural logarithm (NaN below 0, -inf at 0).</summary>
    public Tensor Log() => Map(this, "LogBackward", d => TensorPrimitives.Log(Data, d), g => g / this);

    /// <summary>Square root.</summary>
    public Tensor Sqrt()
    {
        Tensor x = this;
        Tensor? y = null;
        y = Map(x, "SqrtBackward", d => TensorPrimitives.Sqrt(x.Data, d), g => g / (2f * y!.Detach()));
        return y;
    }

    /// <summary>x^p for a constant exponent.</summary>
    public Tensor Pow(float exponent) => Map(this, "PowBackward",
        d => TensorPrimitives.Pow(Data, exponent, d),
        g => exponent == 0 ? ZerosLike(g) : g * exponent * Pow(exponent - 1));

    /// <summary>|x|; the gradient at 0 is 0, as in PyTorch.</summary>
    public Tensor Abs() => Map(this, "AbsBackward", d => TensorPrimitives.Abs(Data, d), g => g * Sign());

    /// <summary>-1, 0 or 1 by the sign of each element (no gradient).</summary>
    public Tensor Sign()
    {
        var y = Tensor.Result(Shape);
        var d = y.AsSpan();
        var x = Data;
        for (int i = 0; i < d.Length; i++) d[i] = x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0;
        return y;
    }

    /// <summary>Limits values to [min, max]; the gradient passes where min ≤ x ≤ max.</summary>
    public Tensor Clamp(float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        if (min > max) throw new ArgumentException($"Clamp needs min ≤ max, got min {min} and max {max}.");
        Tensor x = this;
        return Map(x, "ClampBackward", d => { var xd = x.Data; for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp(xd[i], min, max); }, g =>
        {
            var r = Tensor.Result(g.Shape);
            var dx = r.AsSpan();
            var gd = g.Data;
            var xd = x.Data;
            for (int i = 0; i < dx.Length; i++) dx[i] = xd[i] >= min && xd[i] <= max ? gd[i] : 0f;
            return r;
        });
    }
}
