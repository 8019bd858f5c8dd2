using Backprop.Caffe.Proto;
using Backprop.Kernels;
using static Backprop.Caffe.Proto.PoolingParameter.Types;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Pooling (MAX, AVE or STOCHASTIC; global; output sizes rounded up unless round_mode: FLOOR). MAX may have a second top,
/// the mask: where each maximum came from, h·W + w within the bottom's plane, as a float. STOCHASTIC samples by value in TRAIN
/// (from the pass's random generator) and takes the probability-weighted average in TEST; it has no padding, as in Caffe.
/// </summary>
public sealed class PoolingLayer(LayerParameter definition) : CaffeLayer(definition), IFusesRelu
{
    private (int H, int W) kernel, stride, pad;
    private PoolMethod method;
    private bool ceil;

    public override (int Min, int Max) Tops => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.PoolingParam ?? new PoolingParameter();
        var x = bottoms[0];
        if (x.Rank != 4) throw Error($"expects a 4-D bottom (N, C, H, W), got {x}.");
        method = p.Pool;
        if (Definition.Top.Count == 2 && method != PoolMethod.Max) throw Error($"only MAX pooling has a second top (the mask); this layer pools by {method}.");
        ceil = p.RoundMode == RoundMode.Ceil;
        if (p.GlobalPooling)
        {
            if (p.HasKernelSize || p.HasKernelH) throw Error("global_pooling takes no kernel size.");
            kernel = (x[2], x[3]);
        }
        else if (p.HasKernelSize && !p.HasKernelH && !p.HasKernelW) kernel = ((int)p.KernelSize, (int)p.KernelSize);
        else if (!p.HasKernelSize && p.HasKernelH && p.HasKernelW) kernel = ((int)p.KernelH, (int)p.KernelW);
        else throw Error("give either kernel_size or both kernel_h and kernel_w.");
        pad = p.HasPadH || p.HasPadW ? ((int)p.PadH, (int)p.PadW) : ((int)p.Pad, (int)p.Pad);
        stride = p.HasStrideH || p.HasStrideW ? ((int)p.StrideH, (int)p.StrideW) : ((int)p.Stride, (int)p.Stride);
        if (kernel.H < 1 || kernel.W < 1 || stride.H < 1 || stride.W < 1) throw Error($"kernel {kernel} and stride {stride} must be positive.");
        if (pad.H >= kernel.H || pad.W >= kernel.W) throw Error($"pad {pad} must be smaller than the kernel {kernel}.");
        if (method == PoolMethod.Stochastic && (pad.H != 0 || pad.W != 0)) throw Error($"STOCHASTIC pooling takes no pad (Caffe ignores it), got {pad}.");
        int oh = Pool2dGeometry.OutputSize(x[2], kernel.H, stride.H, pad.H, ceil);
        int ow = Pool2dGeometry.OutputSize(x[3], kernel.W, stride.W, pad.W, ceil);
        if (oh < 1 || ow < 1) throw Error($"kernel {kernel.H}x{kernel.W} does not fit the bottom {x}.");
        var top = new Shape(x[0], x[1], oh, ow);
        return Definition.Top.Count == 2 ? [top, top] : [top];
    }

    /// <summary>MAX pooling with one top runs a following ReLU in its own pass (Functional.MaxPool2dRelu).</summary>
    bool IFusesRelu.CanFuseRelu => method == PoolMethod.Max && Definition.Top.Count == 1;

    IReadOnlyList<Tensor> IFusesRelu.ForwardRelu(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [Functional.MaxPool2dRelu(bottoms[0], (kernel.H, kernel.W), (stride.H, stride.W), (pad.H, pad.W), ceil)];

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var x = bottoms[0];
        switch (method)
        {
            case PoolMethod.Max when Definition.Top.Count == 2:
                var (values, mask) = Functional.MaxPool2dWithIndices(x, (kernel.H, kernel.W), (stride.H, stride.W), (pad.H, pad.W), ceil);
                return [values, mask];
            case PoolMethod.Max:
                return [Functional.MaxPool2d(x, (kernel.H, kernel.W), (stride.H, stride.W), (pad.H, pad.W), ceil)];
            case PoolMethod.Ave:
                return [Functional.AvgPool2d(x, (kernel.H, kernel.W), (stride.H, stride.W), (pad.H, pad.W), ceil, countIncludePad: true)];
            default:
                return [Functional.StochasticPool2d(x, (kernel.H, kernel.W), (stride.H, stride.W), context.IsTraining ? context.RandomFor(layerIndex) : null, ceil)];
        }
    }
}
