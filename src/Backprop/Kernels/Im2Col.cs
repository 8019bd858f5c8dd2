namespace Backprop.Kernels;

/// <summary>
/// Unfolds one image (or one group of its channels) into the column matrix of a convolution, and
/// folds columns back. Row (c*KH + kh)*KW + kw, column oh*OW + ow holds
/// x[c, oh*strideH - padH + kh*dilationH, ow*strideW - padW + kw*dilationW], zero outside the image.
/// </summary>
public static class Im2Col
{
    /// <summary>Fills the column matrix from the channels of one image.</summary>
    // x: (channels, H, W); col: (channels*KH*KW, OH*OW) overwritten
    public static void Unfold(in Conv2dGeometry g, int channels, ReadOnlySpan<float> x, Span<float> col)
    {
        int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth;
        int plane = oh * ow;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> xc = x.Slice(c * h * w, h * w);
            for (int kh = 0; kh < g.KernelHeight; kh++)
            {
                for (int kw = 0; kw < g.KernelWidth; kw++, row++)
                {
                    Span<float> dst = col.Slice(row * plane, plane);
                    int offW = kw * g.DilationWidth - g.PadWidth;
                    (int owLo, int owHi) = ValidRange(offW, g.StrideWidth, w, ow);
                    for (int y = 0; y < oh; y++)
                    {
                        Span<float> d = dst.Slice(y * ow, ow);
                        int ih = y * g.StrideHeight - g.PadHeight + kh * g.DilationHeight;
                        if ((uint)ih >= (uint)h || owLo >= owHi)
                        {
                            d.Clear();
                            continue;
                        }
                        d.Slice(0, owLo).Clear();
                        d.Slice(owHi).Clear();
                        ReadOnlySpan<float> src = xc.Slice(ih * w, w);
                        if (g.StrideWidth == 1)
                        {
                            src.Slice(owLo + offW, owHi - owLo).CopyTo(d.Slice(owLo, owHi - owLo));
                        }
                        else
                        {
                            int s = g.StrideWidth;
                            for (int x0 = owLo; x0 < owHi; x0++) d[x0] = src[x0 * s + offW];
                        }
                    }
                }
            }
        }
    }

    /// <summary>Adds the column matrix back into the channels of one image (dx += fold(col)).</summary>
    // col: (channels*KH*KW, OH*OW); dx: (channels, H, W) accumulated into
    public static void FoldAdd(in Conv2dGeometry g, int channels, ReadOnlySpan<float> col, Span<float> dx)
    {
        int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth;
        int plane = oh * ow;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            Span<float> dxc = dx.Slice(c * h * w, h * w);
            for (int kh = 0; kh < g.KernelHeight; kh++)
            {
                for (int kw = 0; kw < g.KernelWidth; kw++, row++)
                {
                    ReadOnlySpan<float> src = col.Slice(row * plane, plane);
                    int offW = kw * g.DilationWidth - g.PadWidth;
                    (int owLo, int owHi) = ValidRange(offW, g.StrideWidth, w, ow);
                    if (owLo >= owHi) continue;
                    for (int y = 0; y < oh; y++)
                    {
                        int ih = y * g.StrideHeight - g.PadHeight + kh * g.DilationHeight;
                        if ((uint)ih >= (uint)h) continue;
                        ReadOnlySpan<float> s = src.Slice(y * ow, ow);
                        Span<float> d = dxc.Slice(ih * w, w);
                        int stride = g.StrideWidth;
                        if (stride == 1)
                        {
                            Span<float> dd = d.Slice(owLo + offW, owHi - owLo);
                            System.Numerics.Tensors.TensorPrimitives.Add(dd, s.Slice(owLo, owHi - owLo), dd);
                        }
                        else
                        {
                            for (int x0 = owLo; x0 < owHi; x0++) d[x0 * stride + offW] += s[x0];
                        }
                    }
                }
            }
        }
    }

    /// <summary>Output columns [lo, hi) whose input column ow*stride + offset lies in [0, width).</summary>
    internal static (int Lo, int Hi) ValidRange(int offset, int stride, int width, int outWidth)
    {
        // ow*stride + offset >= 0  <=>  ow >= ceil(-offset / stride)
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        // ow*stride + offset <= width - 1  <=>  ow <= floor((width - 1 - offset) / stride)
        int last = width - 1 - offset;
        int hi = last < 0 ? 0 : last / stride + 1;
        lo = Math.Min(lo, outWidth);
        hi = Math.Clamp(hi, lo, outWidth);
        return (lo, hi);
    }
}
