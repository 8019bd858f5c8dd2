using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// im2col as an op (Caffe's Im2col layer; PyTorch's unfold, before its last two axes are merged). input: (N, C, H, W);
    /// output (N, C·KH·KW, OH, OW) with channel (c·KH + kh)·KW + kw at (oh, ow) holding
    /// input[n, c, oh·strideH − padH + kh·dilationH, ow·strideW − padW + kw·dilationW], zero in the padding.
    /// OH and OW are the convolution's output size. The backward folds the columns back (col2im), adding overlaps.
    /// </summary>
    public static Tensor Unfold(Tensor input, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4) throw new ArgumentException($"Unfold expects input of shape (N, C, H, W), got {input.Shape}.");
        int n = input.Shape[0], c = input.Shape[1];
        // A convolution with one output channel per group has this input, kernel and output size.
        var g = new Conv2dGeometry(n, c, input.Shape[2], input.Shape[3], 1, kernel.Height, kernel.Width, stride.Height, stride.Width,
            padding.Height, padding.Width, dilation.Height, dilation.Width, 1);
        if (g.Problem() is string problem)
            throw new ArgumentException($"Unfold: input {input.Shape}, kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}: {problem}");
        long rows = (long)c * kernel.Height * kernel.Width, plane = (long)g.OutHeight * g.OutWidth;
        if (n * rows * plane > int.MaxValue)
            throw new ArgumentException($"Unfold: output ({n}, {rows}, {g.OutHeight}, {g.OutWidth}) would have more than {int.MaxValue} elements.");
        int imageIn = c * g.InHeight * g.InWidth, imageOut = (int)(rows * plane);
        var y = Tensor.Uninitialized(new Shape(n, (int)rows, g.OutHeight, g.OutWidth));
        var x = input.Data;
        var yd = y.AsSpan();
        for (int i = 0; i < n; i++) Kernels.Im2Col.Unfold(g, c, x.Slice(i * imageIn, imageIn), yd.Slice(i * imageOut, imageOut));
        return Tensor.Record(y, "Im2ColBackward", (dy, _) =>
        {
            var dx = Tensor.Result(input.Shape);   // FoldAdd adds into zeros
            var dxd = dx.AsSpan();
            var dyd = dy.Data;
            for (int i = 0; i < n; i++) Kernels.Im2Col.FoldAdd(g, c, dyd.Slice(i * imageOut, imageOut), dxd.Slice(i * imageIn, imageIn));
            return [dx];
        }, input);
    }
}
