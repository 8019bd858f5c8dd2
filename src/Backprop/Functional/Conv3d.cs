using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// 3-D convolution (cross-correlation). input: (N, C, D, H, W); weight: (K, C/groups, KD, KH, KW); bias: (K) or null.
    /// Output (N, K, OD, OH, OW) with each size (in + 2·pad − dilation·(kernel − 1) − 1) / stride + 1, rounded down. Sizes are given
    /// as (depth, height, width). vol2col + GEMM per image and group (<see cref="Convolution3d"/>).
    /// </summary>
    public static Tensor Conv3d(Tensor input, Tensor weight, Tensor? bias, (int D, int H, int W) stride, (int D, int H, int W) padding,
        (int D, int H, int W) dilation, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 5) throw new ArgumentException($"Conv3d expects input of shape (N, C, D, H, W), got {input.Shape}.");
        if (weight.Rank != 5) throw new ArgumentException($"Conv3d expects weight of shape (K, C/groups, KD, KH, KW), got {weight.Shape}.");
        var s = input.Shape;
        var g = new Conv3dGeometry(s[0], s[1], (s[2], s[3], s[4]), weight.Shape[0], (weight.Shape[2], weight.Shape[3], weight.Shape[4]),
            stride, padding, dilation, groups);
        if (g.Problem() is string problem)
            throw new ArgumentException($"Conv3d: input {input.Shape}, weight {weight.Shape}, stride {stride}, padding {padding}, dilation {dilation}, groups {groups}: {problem}");
        if (s[1] != weight.Shape[1] * groups)
            throw new ArgumentException($"Conv3d: input {input.Shape} has {s[1]} channels, but weight {weight.Shape} with groups={groups} expects {weight.Shape[1] * groups}.");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
            throw new ArgumentException($"Conv3d: bias of shape {bias.Shape} does not match {weight.Shape[0]} output channels.");

        var o = g.Output;
        var y = Tensor.Uninitialized(new Shape(g.Batch, g.OutChannels, o.D, o.H, o.W));
        Convolution3d.Forward(g, input.Data, weight.Data, bias is null ? default : bias.Data, y.AsSpan());

        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Tensor.Record(y, "ConvolutionBackward", (dy, needs) =>
        {
            Tensor? dx = null, dw = null, db = null;
            if (needs[0])
            {
                dx = Tensor.Uninitialized(input.Shape);   // overwritten by the kernel
                Convolution3d.BackwardData(g, dy.Data, weight.Data, dx.AsSpan());
            }
            bool needBias = bias is not null && needs[2];
            if (needs[1] || needBias)
            {
                dw = Tensor.Uninitialized(weight.Shape);
                db = needBias ? Tensor.Uninitialized(bias!.Shape) : null;
                Convolution3d.BackwardWeights(g, input.Data, dy.Data, dw.AsSpan(), db is null ? default : db.AsSpan());
                if (!needs[1]) dw = null;
            }
            return bias is null ? [dx, dw] : [dx, dw, db];
        }, inputs);
    }
}
