// TEMPORARY plain-loop stand-ins, replaced by the kernels branch at merge.
namespace Backprop.Kernels;

public static class Gemm
{
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
            }
    }
}

public readonly record struct Conv2dGeometry(int Batch, int InChannels, int InHeight, int InWidth,
    int OutChannels, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
    int PadHeight, int PadWidth, int DilationHeight, int DilationWidth, int Groups)
{
    public int OutHeight => (InHeight + 2 * PadHeight - DilationHeight * (KernelHeight - 1) - 1) / StrideHeight + 1;
    public int OutWidth => (InWidth + 2 * PadWidth - DilationWidth * (KernelWidth - 1) - 1) / StrideWidth + 1;
    public void Validate()
    {
        if (InChannels % Groups != 0 || OutChannels % Groups != 0) throw new ArgumentException("groups");
        if (OutHeight < 1 || OutWidth < 1) throw new ArgumentException("output size");
    }
}

public static class Convolution
{
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        int cg = g.InChannels / g.Groups, kg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int k = 0; k < g.OutChannels; k++)
            {
                int grp = k / kg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        float s = bias.IsEmpty ? 0 : bias[k];
                        for (int c = 0; c < cg; c++)
                            for (int u = 0; u < g.KernelHeight; u++)
                                for (int v = 0; v < g.KernelWidth; v++)
                                {
                                    int h = i * g.StrideHeight - g.PadHeight + u * g.DilationHeight;
                                    int w = j * g.StrideWidth - g.PadWidth + v * g.DilationWidth;
                                    if (h < 0 || h >= g.InHeight || w < 0 || w >= g.InWidth) continue;
                                    s += x[((n * g.InChannels + grp * cg + c) * g.InHeight + h) * g.InWidth + w] * weight[((k * cg + c) * g.KernelHeight + u) * g.KernelWidth + v];
                                }
                        y[((n * g.OutChannels + k) * oh + i) * ow + j] = s;
                    }
            }
    }

    public static void BackwardData(in Conv2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx)
    {
        dx.Clear();
        int cg = g.InChannels / g.Groups, kg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int k = 0; k < g.OutChannels; k++)
            {
                int grp = k / kg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        float d = dy[((n * g.OutChannels + k) * oh + i) * ow + j];
                        for (int c = 0; c < cg; c++)
                            for (int u = 0; u < g.KernelHeight; u++)
                                for (int v = 0; v < g.KernelWidth; v++)
                                {
                                    int h = i * g.StrideHeight - g.PadHeight + u * g.DilationHeight;
                                    int w = j * g.StrideWidth - g.PadWidth + v * g.DilationWidth;
                                    if (h < 0 || h >= g.InHeight || w < 0 || w >= g.InWidth) continue;
                                    dx[((n * g.InChannels + grp * cg + c) * g.InHeight + h) * g.InWidth + w] += d * weight[((k * cg + c) * g.KernelHeight + u) * g.KernelWidth + v];
                                }
                    }
            }
    }

    public static void BackwardWeights(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dWeight, Span<float> dBias)
    {
        dWeight.Clear(); dBias.Clear();
        int cg = g.InChannels / g.Groups, kg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int k = 0; k < g.OutChannels; k++)
            {
                int grp = k / kg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        float d = dy[((n * g.OutChannels + k) * oh + i) * ow + j];
                        if (!dBias.IsEmpty) dBias[k] += d;
                        for (int c = 0; c < cg; c++)
                            for (int u = 0; u < g.KernelHeight; u++)
                                for (int v = 0; v < g.KernelWidth; v++)
                                {
                                    int h = i * g.StrideHeight - g.PadHeight + u * g.DilationHeight;
                                    int w = j * g.StrideWidth - g.PadWidth + v * g.DilationWidth;
                                    if (h < 0 || h >= g.InHeight || w < 0 || w >= g.InWidth) continue;
                                    dWeight[((k * cg + c) * g.KernelHeight + u) * g.KernelWidth + v] += d * x[((n * g.InChannels + grp * cg + c) * g.InHeight + h) * g.InWidth + w];
                                }
                    }
            }
    }
}

public readonly record struct Pool2dGeometry(int Batch, int Channels, int InHeight, int InWidth,
    int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadHeight, int PadWidth, int OutHeight, int OutWidth)
{
    public static int OutputSize(int inSize, int kernel, int stride, int pad, bool ceilMode)
    {
        int num = inSize + 2 * pad - kernel;
        int o = (ceilMode ? (num + stride - 1) / stride : num / stride) + 1;
        if (ceilMode && (o - 1) * stride >= inSize + pad) o--;
        return o;
    }
    public void Validate() { }
}

public static class Pooling
{
    public static void MaxForward(in Pool2dGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax)
    {
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int i = 0; i < g.OutHeight; i++)
                for (int j = 0; j < g.OutWidth; j++)
                {
                    float best = float.NegativeInfinity; int arg = -1;
                    for (int u = 0; u < g.KernelHeight; u++)
                        for (int v = 0; v < g.KernelWidth; v++)
                        {
                            int h = i * g.StrideHeight - g.PadHeight + u, w = j * g.StrideWidth - g.PadWidth + v;
                            if (h < 0 || h >= g.InHeight || w < 0 || w >= g.InWidth) continue;
                            float val = x[(p * g.InHeight + h) * g.InWidth + w];
                            if (arg < 0 || val > best || float.IsNaN(val)) { if (arg >= 0 && float.IsNaN(best)) continue; best = val; arg = h * g.InWidth + w; }
                        }
                    int o = (p * g.OutHeight + i) * g.OutWidth + j;
                    y[o] = best; argmax[o] = arg;
                }
    }

    public static void MaxBackward(in Pool2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        dx.Clear();
        int plane = g.OutHeight * g.OutWidth;
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int o = 0; o < plane; o++) dx[p * g.InHeight * g.InWidth + argmax[p * plane + o]] += dy[p * plane + o];
    }

    public static void AvgForward(in Pool2dGeometry g, ReadOnlySpan<float> x, Span<float> y, bool countIncludePad)
    {
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int i = 0; i < g.OutHeight; i++)
                for (int j = 0; j < g.OutWidth; j++)
                {
                    int h0 = i * g.StrideHeight - g.PadHeight, w0 = j * g.StrideWidth - g.PadWidth;
                    int h1 = Math.Min(h0 + g.KernelHeight, g.InHeight + g.PadHeight), w1 = Math.Min(w0 + g.KernelWidth, g.InWidth + g.PadWidth);
                    int size = (h1 - h0) * (w1 - w0);
                    h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0); h1 = Math.Min(h1, g.InHeight); w1 = Math.Min(w1, g.InWidth);
                    if (!countIncludePad) size = (h1 - h0) * (w1 - w0);
                    float s = 0;
                    for (int h = h0; h < h1; h++) for (int w = w0; w < w1; w++) s += x[(p * g.InHeight + h) * g.InWidth + w];
                    y[(p * g.OutHeight + i) * g.OutWidth + j] = s / size;
                }
    }

    public static void AvgBackward(in Pool2dGeometry g, ReadOnlySpan<float> dy, Span<float> dx, bool countIncludePad)
    {
        dx.Clear();
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int i = 0; i < g.OutHeight; i++)
                for (int j = 0; j < g.OutWidth; j++)
                {
                    int h0 = i * g.StrideHeight - g.PadHeight, w0 = j * g.StrideWidth - g.PadWidth;
                    int h1 = Math.Min(h0 + g.KernelHeight, g.InHeight + g.PadHeight), w1 = Math.Min(w0 + g.KernelWidth, g.InWidth + g.PadWidth);
                    int size = (h1 - h0) * (w1 - w0);
                    h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0); h1 = Math.Min(h1, g.InHeight); w1 = Math.Min(w1, g.InWidth);
                    if (!countIncludePad) size = (h1 - h0) * (w1 - w0);
                    float d = dy[(p * g.OutHeight + i) * g.OutWidth + j] / size;
                    for (int h = h0; h < h1; h++) for (int w = w0; w < w1; w++) dx[(p * g.InHeight + h) * g.InWidth + w] += d;
                }
    }
}

public static class KernelThreads
{
    public static int Count { get; set; } = Environment.ProcessorCount;
    public static void For(int count, Action<int, int> body) => body(0, count);
}
