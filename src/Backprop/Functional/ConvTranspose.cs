using System.Numerics.Tensors;
using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>Transposed 2-D convolution with square stride, padding and dilation. See the tuple overload.</summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        ConvTranspose2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>
    /// Transposed 2-D convolution ("deconvolution"): the gradient of <see cref="Conv2d(Tensor, Tensor, Tensor?, int, int, int, int)"/>
    /// with respect to its input. input: (N, C, H, W); weight: (C, K/groups, KH, KW) as PyTorch and Caffe store it; bias: (K) or null.
    /// Output (N, K, OH, OW) with OH = (H − 1)·strideH − 2·padH + dilH·(KH − 1) + 1, likewise OW (no output padding, as in Caffe).
    /// Forward runs the convolution's backward-data kernel; backward runs the convolution forward for the input gradient and the
    /// convolution's weight gradient with the roles of input and output swapped.
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4) throw new ArgumentException($"ConvTranspose2d expects input of shape (N, C, H, W), got {input.Shape}.");
        if (weight.Rank != 4) throw new ArgumentException($"ConvTranspose2d expects weight of shape (C, K/groups, KH, KW), got {weight.Shape}.");
        if (groups < 1) throw new ArgumentException($"ConvTranspose2d: groups must be positive, got {groups}.");
        int n = input.Shape[0], c = input.Shape[1], k = weight.Shape[1] * groups;
        if (weight.Shape[0] != c)
            throw new ArgumentException($"ConvTranspose2d: input {input.Shape} has {c} channels, but weight {weight.Shape} expects {weight.Shape[0]}.");
        long oh = TransposedOutputSize(input.Shape[2], weight.Shape[2], stride.Height, padding.Height, dilation.Height);
        long ow = TransposedOutputSize(input.Shape[3], weight.Shape[3], stride.Width, padding.Width, dilation.Width);
        if (oh < 1 || ow < 1 || oh > int.MaxValue || ow > int.MaxValue)
            throw new ArgumentException($"ConvTranspose2d: input {input.Shape}, weight {weight.Shape}, stride {stride}, padding {padding}, dilation {dilation}: " +
                $"output size would be {oh}x{ow}; padding is too large for this input and kernel.");
        // The convolution whose backward-data this is: its input is our output, its output our input.
        var g = new Conv2dGeometry(n, k, (int)oh, (int)ow, c, weight.Shape[2], weight.Shape[3], stride.Height, stride.Width,
            padding.Height, padding.Width, dilation.Height, dilation.Width, groups);
        if (g.Problem() is string problem)
            throw new ArgumentException($"ConvTranspose2d: input {input.Shape}, weight {weight.Shape}, stride {stride}, padding {padding}, dilation {dilation}, groups {groups}: {problem}");
        if (g.OutHeight != input.Shape[2] || g.OutWidth != input.Shape[3])
            throw new InvalidOperationException($"ConvTranspose2d: output {oh}x{ow} does not map back onto input {input.Shape}.");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != k))
            throw new ArgumentException($"ConvTranspose2d: bias of shape {bias.Shape} does not match {k} output channels.");

        var y = Tensor.Uninitialized(new Shape(n, k, (int)oh, (int)ow));
        var yd = y.AsSpan();
        Convolution.BackwardData(g, input.Data, weight.Data, yd);   // overwrites y
        int plane = (int)(oh * ow);
        if (bias is not null)
        {
            var b = bias.Data;
            for (int i = 0; i < n * k; i++) TensorPrimitives.Add(yd.Slice(i * plane, plane), b[i % k], yd.Slice(i * plane, plane));
        }

        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Tensor.Record(y, "ConvolutionBackward", (dy, needs) =>
        {
            Tensor? dx = null, dw = null, db = null;
            if (needs[0])
            {
                dx = Tensor.Uninitialized(input.Shape);
                Convolution.Forward(g, dy.Data, weight.Data, default, dx.AsSpan());
            }
            if (needs[1])
            {
                dw = Tensor.Uninitialized(weight.Shape);
                Convolution.BackwardWeights(g, dy.Data, input.Data, dw.AsSpan(), default);
            }
            if (bias is not null && needs[2])
            {
                // Per output channel, the sum of dy over images and pixels, in image order.
                db = Tensor.Result(bias.Shape);
                var dbd = db.AsSpan();
                var dyd = dy.Data;
                for (int i = 0; i < n * k; i++) dbd[i % k] += TensorPrimitives.Sum(dyd.Slice(i * plane, plane));
            }
            return bias is null ? [dx, dw] : [dx, dw, db];
        }, inputs);
    }

    /// <summary>(input − 1)·stride − 2·pad + dilation·(kernel − 1) + 1 in 64 bits: the size a transposed convolution gives (Caffe's Deconvolution).</summary>
    public static long TransposedOutputSize(int input, int kernel, int stride, int pad, int dilation) =>
        ((long)input - 1) * stride - 2L * pad + (long)dilation * (kernel - 1) + 1;
}
