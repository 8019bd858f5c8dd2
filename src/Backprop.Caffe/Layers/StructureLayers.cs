using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>Caffe's Concat along <c>axis</c> (or the legacy <c>concat_dim</c>).</summary>
public sealed class ConcatLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int axis;

    public override (int Min, int Max) Bottoms => (1, int.MaxValue);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ConcatParam ?? new ConcatParameter();
        axis = bottoms[0].NormalizeAxis(p.HasConcatDim && !p.HasAxis ? (int)p.ConcatDim : p.Axis);
        var dims = bottoms[0].ToArray();
        foreach (var b in bottoms.Skip(1))
        {
            if (b.Rank != dims.Length) throw Error($"bottoms {bottoms[0]} and {b} differ in rank.");
            for (int i = 0; i < b.Rank; i++)
                if (i != axis && b[i] != dims[i]) throw Error($"bottoms {bottoms[0]} and {b} differ outside the concat axis {axis}.");
            dims[axis] += b[axis];
        }
        return [new Shape(dims)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [bottoms.Count == 1 ? bottoms[0] : Tensor.Concat(bottoms.ToList(), axis)];
}

/// <summary>Caffe's Eltwise: SUM (with optional coefficients), PROD or MAX of same-shaped bottoms.</summary>
public sealed class EltwiseLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override (int Min, int Max) Bottoms => (2, int.MaxValue);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.EltwiseParam ?? new EltwiseParameter();
        foreach (var b in bottoms)
            if (b != bottoms[0]) throw Error($"bottoms must have the same shape, got {bottoms[0]} and {b}.");
        if (p.Coeff.Count > 0 && (p.Coeff.Count != bottoms.Count || p.Operation != EltwiseParameter.Types.EltwiseOp.Sum))
            throw Error($"coeff needs SUM and one value per bottom ({bottoms.Count}), got {p.Coeff.Count}.");
        return [bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var p = Definition.EltwiseParam ?? new EltwiseParameter();
        Tensor y = p.Coeff.Count > 0 ? bottoms[0] * p.Coeff[0] : bottoms[0];
        for (int i = 1; i < bottoms.Count; i++)
        {
            var b = bottoms[i];
            y = p.Operation switch
            {
                EltwiseParameter.Types.EltwiseOp.Prod => y * b,
                EltwiseParameter.Types.EltwiseOp.Max => (y + b + (y - b).Abs()) * 0.5f,   // max(a, b)
                _ => p.Coeff.Count > 0 ? y + b * p.Coeff[i] : y + b,
            };
        }
        return [y];
    }
}

/// <summary>Caffe's Flatten: merges axes axis..end_axis.</summary>
public sealed class FlattenLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int start, end;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.FlattenParam ?? new FlattenParameter();
        var x = bottoms[0];
        start = x.NormalizeAxis(p.Axis);
        end = x.NormalizeAxis(p.EndAxis);
        if (start > end) throw Error($"axis {p.Axis} comes after end_axis {p.EndAxis} for bottom {x}.");
        var dims = x.ToArray();
        int merged = 1;
        for (int i = start; i <= end; i++) merged *= dims[i];
        return [new Shape([.. dims[..start], merged, .. dims[(end + 1)..]])];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [bottoms[0].Flatten(start, end)];
}

/// <summary>Caffe's Reshape: replaces axes [axis, axis + num_axes) by shape, where 0 copies a dimension and -1 is inferred.</summary>
public sealed class ReshapeLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private Shape setupBottom = new(), setupTop = new();
    private int start, count;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        setupBottom = bottoms[0];
        setupTop = Infer(bottoms[0]);
        return [setupTop];
    }

    // Caffe reshapes on every forward: a bottom whose size changes between passes (py-faster-rcnn's images, a Filter's
    // batch) re-infers. The shape may change axis 0 too (dim: -1 dim: 8).
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [bottoms[0].Reshape((bottoms[0].Shape == setupBottom ? setupTop : Infer(bottoms[0].Shape)).ToArray())];

    private Shape Infer(Shape bottom)
    {
        var p = Definition.ReshapeParam ?? throw Error("reshape_param is missing.");
        var x = bottom.ToArray();
        start = p.Axis < 0 ? p.Axis + x.Length + 1 : p.Axis;
        count = p.NumAxes < 0 ? x.Length - start : p.NumAxes;
        if (start < 0 || start + count > x.Length) throw Error($"axis {p.Axis} and num_axes {p.NumAxes} do not fit the bottom {bottom}.");
        var spec = p.Shape?.Dim.Select(d => (int)d).ToArray() ?? [];
        var dims = new List<int>(x[..start]);
        for (int i = 0; i < spec.Length; i++)
        {
            if (spec[i] == 0)
            {
                if (start + i >= x.Length) throw Error($"shape dim {i} is 0 (copy) but the bottom {bottom} has no axis {start + i}.");
                dims.Add(x[start + i]);
            }
            else dims.Add(spec[i]);
        }
        dims.AddRange(x[(start + count)..]);
        int known = 1, infer = -1;
        for (int i = 0; i < dims.Count; i++)
        {
            if (dims[i] == -1) { if (infer >= 0) throw Error("shape has more than one -1."); infer = i; }
            else if (dims[i] < 0) throw Error($"shape dim {dims[i]} is invalid.");
            else known *= dims[i];
        }
        int total = bottom.Length;
        if (infer >= 0) dims[infer] = known == 0 ? 0 : total / known;
        if (dims.Aggregate(1, (a, b) => a * b) != total) throw Error($"cannot reshape the bottom {bottom} to ({string.Join(", ", dims)}).");
        return new Shape([.. dims]);
    }
}

/// <summary>Caffe's Split: passes the bottom to every top (gradients from all of them add up).</summary>
public sealed class SplitLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override (int Min, int Max) Tops => (1, int.MaxValue);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler) =>
        Enumerable.Repeat(bottoms[0], Definition.Top.Count).ToArray();

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        Enumerable.Repeat(bottoms[0], Definition.Top.Count).ToArray();
}

/// <summary>Caffe's Silence: consumes bottoms so they are not net outputs.</summary>
public sealed class SilenceLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override (int Min, int Max) Bottoms => (1, int.MaxValue);
    public override (int Min, int Max) Tops => (0, 0);
    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler) => [];
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) => [];
}
