namespace Backprop.Kernels;

/// <summary>
/// The definition of <see cref="Convolution"/>: plain loops straight from the formula, no SIMD, no
/// im2col, no GEMM, sums in double. Cross-correlation with stride, padding, dilation and groups:
/// y[n, k, oh, ow] = bias[k] + sum over c in k's group, kh, kw of
///     weight[k, c - g*C/groups, kh, kw] * x[n, c, oh*sH - pH + kh*dH, ow*sW - pW + kw*dW]
/// where x is zero outside the image.
/// </summary>
public static class ConvolutionReference
{
    // x: (N, C, H, W); weight: (K, C/groups, KH, KW); bias: (K) or empty; y: (N, K, OH, OW) overwritten
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        g.Validate();
        int cg = g.InChannels / g.Groups, kg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
        for (int k = 0; k < g.OutChannels; k++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double sum = bias.Length != 0 ? bias[k] : 0.0;
            int grp = k / kg;
            for (int c = 0; c < cg; c++)
            for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
            {
                int ih = i * g.StrideHeight - g.PadHeight + kh * g.DilationHeight;
                int iw = j * g.StrideWidth - g.PadWidth + kw * g.DilationWidth;
                if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                float xv = x[((n * g.InChannels + grp * cg + c) * g.InHeight + ih) * g.InWidth + iw];
                float wv = weight[((k * cg + c) * g.KernelHeight + kh) * g.KernelWidth + kw];
                sum += (double)xv * wv;
            }
            y[((n * g.OutChannels + k) * oh + i) * ow + j] = (float)sum;
        }
    }

    // dy: (N, K, OH, OW); weight: (K, C/groups, KH, KW); dx: (N, C, H, W) overwritten
    public static void BackwardData(in Conv2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx)
    {
        g.Validate();
        int cg = g.InChannels / g.Groups, kg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth;
        var acc = new double[dx.Length];
        for (int n = 0; n < g.Batch; n++)
        for (int k = 0; k < g.OutChannels; k++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double d = dy[((n * g.OutChannels + k) * oh + i) * ow + j];
            int grp = k / kg;
            for (int c = 0; c < cg; c++)
            for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
            {
                int ih = i * g.StrideHeight - g.PadHeight + kh * g.DilationHeight;
                int iw = j * g.StrideWidth - g.PadWidth + kw * g.DilationWidth;
                if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                float wv = weight[((k * cg + c) * g.KernelHeight + kh) * g.KernelWidth + kw];
                acc[((n * g.InChannels + grp * cg + c) * g.InHeight + ih) * g.InWidth + iw] += d * wv;
            }
        }
        for (int t = 0; t < acc.Length; t++) dx[t] = (float)acc[t];
    }

    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C/groups, KH, KW) overwritten; dBias: (K) overwritten, or empty to skip
    public static void BackwardWeights(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dWeight, Span<float> dBias)
    {
        g.Validate();
        int cg = g.InChannels / g.Groups, kg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth;
        for (int k = 0; k < g.OutChannels; k++)
        {
            int grp = k / kg;
            for (int c = 0; c < cg; c++)
            for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
            {
                double sum = 0;
                for (int n = 0; n < g.Batch; n++)
                for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int ih = i * g.StrideHeight - g.PadHeight + kh * g.DilationHeight;
                    int iw = j * g.StrideWidth - g.PadWidth + kw * g.DilationWidth;
                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                    sum += (double)x[((n * g.InChannels + grp * cg + c) * g.InHeight + ih) * g.InWidth + iw]
                         * dy[((n * g.OutChannels + k) * oh + i) * ow + j];
                }
                dWeight[((k * cg + c) * g.KernelHeight + kh) * g.KernelWidth + kw] = (float)sum;
            }
            if (dBias.Length != 0)
            {
                double b = 0;
                for (int n = 0; n < g.Batch; n++)
                for (int i = 0; i < oh * ow; i++)
                    b += dy[(n * g.OutChannels + k) * oh * ow + i];
                dBias[k] = (float)b;
            }
        }
    }
}
