using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Reduction: reduces every axis from <c>axis</c> (default 0) to the last with SUM, ASUM (Σ|x|), SUMSQ (Σx²)
/// or MEAN, times coeff (default 1). The top keeps the axes before <c>axis</c>: a scalar when axis is 0.
/// </summary>
public sealed class ReductionLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private ReductionParameter p = new();
    private int axis;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        p = Definition.ReductionParam ?? new ReductionParameter();
        var x = bottoms[0];
        if (p.Axis < -x.Rank || p.Axis >= Math.Max(x.Rank, 1)) throw Error($"axis {p.Axis} is out of range for the bottom {x}.");
        axis = Math.Min(p.Axis < 0 ? p.Axis + x.Rank : p.Axis, x.Rank);
        if (!Enum.IsDefined(p.Operation)) throw Error($"operation {(int)p.Operation} is not one of SUM, ASUM, SUMSQ, MEAN.");
        return [new Shape(x.ToArray()[..axis])];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        // Shapes from the bottom as it arrives: a Filter before this layer changes the batch size at run time.
        var topDims = bottoms[0].Shape.ToArray()[..axis];
        int outer = topDims.Aggregate(1, (a, b) => a * b);
        int dim = outer == 0 ? 0 : bottoms[0].Length / outer;
        var rows = bottoms[0].Reshape(outer, dim);   // (outer, dim)
        var y = p.Operation switch
        {
            ReductionParameter.Types.ReductionOp.Asum => rows.Abs().Sum(1),
            ReductionParameter.Types.ReductionOp.Sumsq => (rows * rows).Sum(1),
            ReductionParameter.Types.ReductionOp.Mean => rows.Mean(1),
            _ => rows.Sum(1),
        };
        if (p.Coeff != 1) y *= p.Coeff;
        return [y.Reshape(topDims)];
    }
}

/// <summary>
/// Caffe's ArgMax. Without <c>axis</c>: per item of the batch, the indices of the top_k largest values of the
/// flattened item, shape (N, 1, top_k) — with out_max_val (N, 2, top_k): indices, then values. With <c>axis</c>: the
/// top_k along that axis, indices or (out_max_val) values in place of the axis. Ties go to the larger index, as
/// Caffe's sort of (value, index) pairs does. Indices come out as floats. No gradient (Caffe has none).
/// </summary>
public sealed class ArgMaxLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int axis = -1, topK;
    private bool outMaxVal;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ArgmaxParam ?? new ArgMaxParameter();
        var x = bottoms[0];
        outMaxVal = p.OutMaxVal;
        if (p.TopK < 1) throw Error("top_k must be at least 1.");
        if (p.HasAxis)
        {
            if (p.Axis < -x.Rank || p.Axis >= x.Rank) throw Error($"axis {p.Axis} is out of range for the bottom {x}.");
            axis = p.Axis < 0 ? p.Axis + x.Rank : p.Axis;
            if (p.TopK > x[axis]) throw Error($"top_k {p.TopK} exceeds the size {x[axis]} of axis {axis} of the bottom {x}.");
            topK = (int)p.TopK;
        }
        else
        {
            if (x.Rank == 0) throw Error("needs a bottom with a batch axis, got a scalar.");
            int perItem = x[0] == 0 ? 0 : x.Length / x[0];
            if (p.TopK > perItem) throw Error($"top_k {p.TopK} exceeds the {perItem} values per item of the bottom {x}.");
            topK = (int)p.TopK;
        }
        return [TopShape(x)];
    }

    private Shape TopShape(Shape x)
    {
        var dims = axis >= 0 ? x.ToArray() : Enumerable.Repeat(1, Math.Max(3, x.Rank)).ToArray();
        if (axis >= 0) dims[axis] = topK;
        else (dims[0], dims[1], dims[2]) = (x[0], outMaxVal ? 2 : 1, topK);
        return new Shape(dims);
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var x = bottoms[0].ToArray();
        var shape = bottoms[0].Shape;
        var topShape = TopShape(shape);
        int dim = axis >= 0 ? shape[axis] : shape[0] == 0 ? 0 : x.Length / shape[0];
        int stride = axis >= 0 ? shape.ToArray()[(axis + 1)..].Aggregate(1, (a, b) => a * b) : 1;   // distance between neighbours on the axis
        int count = dim == 0 ? 0 : x.Length / dim;
        var y = new float[topShape.Length];
        var order = new int[dim];
        for (int i = 0; i < count; i++)
        {
            int Offset(int j) => (i / stride * dim + j) * stride + i % stride;
            for (int j = 0; j < dim; j++) order[j] = j;
            // Descending by value, then by index: Caffe sorts (value, index) pairs with std::greater.
            Array.Sort(order, (a, b) => x[Offset(b)] != x[Offset(a)] ? x[Offset(b)].CompareTo(x[Offset(a)]) : b.CompareTo(a));
            for (int j = 0; j < topK; j++)
            {
                if (axis >= 0) y[(i / stride * topK + j) * stride + i % stride] = outMaxVal ? x[Offset(order[j])] : order[j];
                else if (outMaxVal)
                {
                    y[2 * i * topK + j] = order[j];
                    y[2 * i * topK + topK + j] = x[Offset(order[j])];
                }
                else y[i * topK + j] = order[j];
            }
        }
        return [Tensor.FromArray(y, topShape.ToArray())];
    }
}

/// <summary>
/// Caffe's MVN: subtracts the mean of each (item, channel) — of each item with across_channels — and with
/// normalize_variance (default true) divides by the standard deviation plus eps (default 1e-9). Caffe reads the bottom
/// through its 4-D accessors, so it must have at most 4 axes. See <see cref="Functional.MeanVarianceNorm"/>.
/// </summary>
public sealed class MvnLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private MVNParameter p = new();

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        p = Definition.MvnParam ?? new MVNParameter();
        var x = bottoms[0];
        if (x.Rank > 4) throw Error($"expects a bottom with at most 4 axes (N, C, H, W), got {x}.");
        if (!(p.Eps >= 0) || float.IsInfinity(p.Eps)) throw Error($"eps must be a finite number ≥ 0, got {p.Eps}.");
        return [x];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        // Rows from the bottom as it arrives (a Filter before this layer changes the batch size at run time).
        var x = bottoms[0].Shape;
        int n = x.Rank > 0 ? x[0] : 1, c = x.Rank > 1 ? x[1] : 1;
        int groups = p.AcrossChannels ? n : n * c;
        return [groups == 0 ? bottoms[0] : Functional.MeanVarianceNorm(bottoms[0], groups, p.NormalizeVariance, p.Eps)];
    }
}
