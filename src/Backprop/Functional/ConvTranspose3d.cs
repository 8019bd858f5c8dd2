using System.Numerics.Tensors;
using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Transposed 3-D convolution: the gradient of <see cref="Conv3d"/> with respect to its input. input: (N, C, D, H, W);
    /// weight: (C, K/groups, KD, KH, KW); bias: (K) or null. Output (N, K, OD, OH, OW), each size
    /// (in − 1)·stride − 2·pad + dilation·(kernel − 1) + 1 (<see cref="TransposedOutputSize"/>). Sizes are (depth, height, width).
    /// </summary>
    public static Tensor ConvTranspose3d(Tensor input, Tensor weight, Tensor? bias, (int D, int H, int W) stride, (int D, int H, int W) padding,
        (int D, int H, int W) dilation, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 5) throw new ArgumentException($"ConvTranspose3d expects input of shape (N, C, D, H, W), got {input.Shape}.");
        if (weight.Rank != 5) throw new ArgumentException($"ConvTranspose3d expects weight of shape (C, K/groups, KD, KH, KW), got {weight.Shape}.");
        if (groups < 1) throw new ArgumentException($"ConvTranspose3d: groups must be positive, got {groups}.");
        var s = input.Shape;
        int n = s[0], c = s[1], k = weight.Shape[1] * groups;
        if (weight.Shape[0] != c)
            throw new ArgumentException($"ConvTranspose3d: input {input.Shape} has {c} channels, but weight {weight.Shape} expects {weight.Shape[0]}.");
        long od = TransposedOutputSize(s[2], weight.Shape[2], stride.D, padding.D, dilation.D);
        long oh = TransposedOutputSize(s[3], weight.Shape[3], stride.H, padding.H, dilation.H);
        long ow = TransposedOutputSize(s[4], weight.Shape[4], stride.W, padding.W, dilation.W);
        if (od < 1 || oh < 1 || ow < 1 || od * oh * ow > int.MaxValue)
            throw new ArgumentException($"ConvTranspose3d: input {input.Shape}, weight {weight.Shape}, stride {stride}, padding {padding}, dilation {dilation}: " +
                $"output size would be {od}x{oh}x{ow}; padding is too large for this input and kernel.");
        // The convolution whose backward-data this is: its input is our output, its output our input.
        var g = new Conv3dGeometry(n, k, ((int)od, (int)oh, (int)ow), c, (weight.Shape[2], weight.Shape[3], weight.Shape[4]), stride, padding, dilation, groups);
        if (g.Problem() is string problem)
            throw new ArgumentException($"ConvTranspose3d: input {input.Shape}, weight {weight.Shape}, stride {stride}, padding {padding}, dilation {dilation}, groups {groups}: {problem}");
        if (g.Output != (s[2], s[3], s[4]))
            throw new InvalidOperationException($"ConvTranspose3d: output {od}x{oh}x{ow} does not map back onto input {input.Shape}.");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != k))
            throw new ArgumentException($"ConvTranspose3d: bias of shape {bias.Shape} does not match {k} output channels.");

        var y = Tensor.Uninitialized(new Shape(n, k, (int)od, (int)oh, (int)ow));
        var yd = y.AsSpan();
        Convolution3d.BackwardData(g, input.Data, weight.Data, yd);   // overwrites y
        int volume = g.InputVolume;
        if (bias is not null)
        {
            var b = bias.Data;
            for (int i = 0; i < n * k; i++) TensorPrimitives.Add(yd.Slice(i * volume, volume), b[i % k], yd.Slice(i * volume, volume));
        }

        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Tensor.Record(y, "ConvolutionBackward", (dy, needs) =>
        {
            Tensor? dx = null, dw = null, db = null;
            if (needs[0])
            {
                dx = Tensor.Uninitialized(input.Shape);
                Convolution3d.Forward(g, dy.Data, weight.Data, default, dx.AsSpan());
            }
            if (needs[1])
            {
                dw = Tensor.Uninitialized(weight.Shape);
                Convolution3d.BackwardWeights(g, dy.Data, input.Data, dw.AsSpan(), default);
            }
            if (bias is not null && needs[2])
            {
                db = Tensor.Result(bias.Shape);
                var dbd = db.AsSpan();
                var dyd = dy.Data;
                for (int i = 0; i < n * k; i++) dbd[i % k] += TensorPrimitives.Sum(dyd.Slice(i * volume, volume));
            }
            return bias is null ? [dx, dw] : [dx, dw, db];
        }, inputs);
    }
}
