using Backprop.Caffe.Proto;
using Backprop.Kernels;
using static Backprop.Caffe.Proto.PoolingParameter.Types;

namespace Backprop.Caffe.Layers;

/// <summary>Caffe's Pooling (MAX or AVE; global; output sizes rounded up unless round_mode: FLOOR).</summary>
public sealed class PoolingLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private (int H, int W) kernel, stride, pad;
    private bool ceil, max;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.PoolingParam ?? new PoolingParameter();
        var x = bottoms[0];
        if (x.Rank != 4) throw Error($"expects a 4-D bottom (N, C, H, W), got {x}.");
        if (p.Pool == PoolMethod.Stochastic) throw Error("STOCHASTIC pooling is not supported; use MAX or AVE.");
        max = p.Pool == PoolMethod.Max;
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
        int oh = Pool2dGeometry.OutputSize(x[2], kernel.H, stride.H, pad.H, ceil);
        int ow = Pool2dGeometry.OutputSize(x[3], kernel.W, stride.W, pad.W, ceil);
        if (oh < 1 || ow < 1) throw Error($"kernel {kernel.H}x{kernel.W} does not fit the bottom {x}.");
        return [new Shape(x[0], x[1], oh, ow)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        [max ? Functional.MaxPool2d(bottoms[0], (kernel.H, kernel.W), (stride.H, stride.W), (pad.H, pad.W), ceil)
             : Functional.AvgPool2d(bottoms[0], (kernel.H, kernel.W), (stride.H, stride.W), (pad.H, pad.W), ceil, countIncludePad: true)];
}
