using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's rule for where a Scale or Bias blob applies: a blob of rank k lines up with bottom axes [axis, axis + k);
/// a scalar blob (k = 0) applies everywhere. A learned blob takes the bottom's axes [axis, axis + num_axes),
/// num_axes −1 meaning to the last axis.
/// </summary>
internal static class BroadcastAxes
{
    /// <summary>The shape of a learned blob: bottom axes [axis, axis + num_axes).</summary>
    public static int[] LearnedShape(Shape x, int axisParam, int numAxes, Func<string, Exception> error)
    {
        int axis = Canonical(x, axisParam, error);
        if (numAxes < -1) throw error($"num_axes must be -1 (to the last axis) or more, got {numAxes}.");
        int end = numAxes == -1 ? x.Rank : axis + numAxes;
        if (end > x.Rank) throw error($"axis {axisParam} with num_axes {numAxes} runs past the last axis of the bottom {x}.");
        return x.ToArray()[axis..end];
    }

    /// <summary>The blob's shape padded with 1s to the bottom's rank, so that it broadcasts at the right axes.</summary>
    public static int[] BroadcastShape(Shape x, int axisParam, Shape blob, string what, Func<string, Exception> error)
    {
        int axis = blob.Rank == 0 ? 0 : Canonical(x, axisParam, error);
        if (axis + blob.Rank > x.Rank) throw error($"the {what} {blob} applied from axis {axis} runs past the last axis of the bottom {x}.");
        var dims = new int[x.Rank];
        for (int i = 0; i < x.Rank; i++)
        {
            bool inside = i >= axis && i < axis + blob.Rank;
            if (inside && blob[i - axis] != x[i]) throw error($"the {what} {blob} does not match the bottom {x} at axis {i}.");
            dims[i] = inside ? x[i] : 1;
        }
        return dims;
    }

    private static int Canonical(Shape x, int axis, Func<string, Exception> error) =>
        axis >= -x.Rank && axis < x.Rank ? (axis + x.Rank) % Math.Max(x.Rank, 1)
            : throw error($"axis {axis} is out of range for the bottom {x} (rank {x.Rank}).");
}

/// <summary>
/// Caffe's Scale: y = x·s (+ b with bias_term), s broadcast over bottom axes [axis, axis + its rank). s is the second
/// bottom, or a learned blob of the bottom's axes [axis, axis + num_axes) (filler default constant 1; num_axes −1: to
/// the end, 0: one scalar). The bias has the scale's shape (bias_filler default constant 0). Blobs: [scale,] bias.
/// </summary>
public sealed class ScaleLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int[] broadcastDims = [];
    private bool biasTerm;

    public override (int Min, int Max) Bottoms => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.ScaleParam ?? new ScaleParameter();
        var x = bottoms[0];
        var scaleShape = bottoms.Count == 2 ? bottoms[1] : new Shape(BroadcastAxes.LearnedShape(x, p.Axis, p.NumAxes, Error));
        broadcastDims = BroadcastAxes.BroadcastShape(x, p.Axis, scaleShape, bottoms.Count == 2 ? "scale bottom" : "scale", Error);
        biasTerm = p.BiasTerm;
        if (Blobs.Count == 0)
        {
            if (bottoms.Count == 1)
            {
                var s = AddBlob(Zeros(context, "scale", scaleShape.ToArray()));
                Fillers.Fill(s, p.Filler ?? new FillerParameter { Type = "constant", Value = 1 }, filler, $"{Where} filler");
            }
            if (biasTerm) Fillers.Fill(AddBlob(Zeros(context, "bias", scaleShape.ToArray())), p.BiasFiller, filler, $"{Where} bias_filler");
        }
        return [x];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var scale = bottoms.Count == 2 ? bottoms[1] : Blobs[0];
        var y = bottoms[0] * scale.Reshape(broadcastDims);
        if (biasTerm) y += Blobs[bottoms.Count == 2 ? 0 : 1].Reshape(broadcastDims);
        return [y];
    }
}

/// <summary>
/// Caffe's Bias: y = x + b, b broadcast over bottom axes [axis, axis + its rank). b is the second bottom, or a learned
/// blob of the bottom's axes [axis, axis + num_axes) (num_axes −1: to the end, 0: one scalar; filler default constant 0).
/// </summary>
public sealed class BiasLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int[] broadcastDims = [];

    public override (int Min, int Max) Bottoms => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.BiasParam ?? new BiasParameter();
        var x = bottoms[0];
        var biasShape = bottoms.Count == 2 ? bottoms[1] : new Shape(BroadcastAxes.LearnedShape(x, p.Axis, p.NumAxes, Error));
        broadcastDims = BroadcastAxes.BroadcastShape(x, p.Axis, biasShape, bottoms.Count == 2 ? "bias bottom" : "bias", Error);
        if (Blobs.Count == 0 && bottoms.Count == 1)
            Fillers.Fill(AddBlob(Zeros(context, "bias", biasShape.ToArray())), p.Filler, filler, $"{Where} filler");
        return [x];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [bottoms[0] + (bottoms.Count == 2 ? bottoms[1] : Blobs[0]).Reshape(broadcastDims)];
}
