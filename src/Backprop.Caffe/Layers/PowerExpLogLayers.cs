using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Power: y = (shift + scale·x)^power (defaults 1, 1, 0). When power or scale is 0 the output is the
/// constant 1 or shift^power and, as in Caffe, no gradient flows.
/// </summary>
public sealed class PowerLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float power, scale, shift;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.PowerParam ?? new PowerParameter();
        (power, scale, shift) = (p.Power, p.Scale, p.Shift);
        if (!float.IsFinite(power) || !float.IsFinite(scale) || !float.IsFinite(shift))
            throw Error($"power, scale and shift must be finite, got {power}, {scale}, {shift}.");
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var x = bottoms[0];
        if (power == 0 || scale == 0)
            return [Tensor.Full(power == 0 ? 1f : MathF.Pow(shift, power), x.Shape.ToArray())];
        var y = scale == 1 ? x : x * scale;
        if (shift != 0) y += shift;
        return [power == 1 ? y : y.Pow(power)];
    }
}

/// <summary>Caffe's Exp: y = base^(shift + scale·x), base −1 (the default) meaning e; any other base must be positive.</summary>
public sealed class ExpLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float innerScale, outerScale;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ExpParam ?? new ExpParameter();
        if (p.Base != -1 && !(p.Base > 0)) throw Error($"base must be positive, or -1 for e; got {p.Base}.");
        if (!float.IsFinite(p.Base) || !float.IsFinite(p.Scale) || !float.IsFinite(p.Shift))
            throw Error($"base, scale and shift must be finite, got {p.Base}, {p.Scale}, {p.Shift}.");
        // base^(shift + scale·x) = base^shift · e^(ln(base)·scale·x)
        double logBase = p.Base == -1 ? 1 : Math.Log(p.Base);
        innerScale = (float)(logBase * p.Scale);
        outerScale = p.Shift == 0 ? 1 : (float)Math.Exp(logBase * p.Shift);
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var y = (innerScale == 1 ? bottoms[0] : bottoms[0] * innerScale).Exp();
        return [outerScale == 1 ? y : y * outerScale];
    }
}

/// <summary>
/// Caffe's Log: y = log_base(shift + scale·x), base −1 (the default) meaning e; any other base must be positive and
/// not 1. Inputs where shift + scale·x ≤ 0 give NaN or −∞, as in Caffe.
/// </summary>
public sealed class LogLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private float scale, shift, baseScale;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.LogParam ?? new LogParameter();
        if (p.Base != -1 && !(p.Base > 0 && p.Base != 1)) throw Error($"base must be positive and not 1, or -1 for e; got {p.Base}.");
        if (!float.IsFinite(p.Base) || !float.IsFinite(p.Scale) || !float.IsFinite(p.Shift))
            throw Error($"base, scale and shift must be finite, got {p.Base}, {p.Scale}, {p.Shift}.");
        (scale, shift) = (p.Scale, p.Shift);
        baseScale = p.Base == -1 ? 1 : (float)(1 / Math.Log(p.Base));
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var inner = scale == 1 ? bottoms[0] : bottoms[0] * scale;
        if (shift != 0) inner += shift;
        var y = inner.Log();
        return [baseScale == 1 ? y : y * baseScale];
    }
}
