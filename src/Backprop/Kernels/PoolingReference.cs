namespace Backprop.Kernels;

/// <summary>
/// The definition of <see cref="Pooling"/>: plain loops, no SIMD, no threads.
/// Max: the largest input in the window (padding never wins; the first maximum in row-major order
/// wins; a NaN wins and stays). Average: window rows [hs, he) with hs = oh*sH - pH and
/// he = min(hs + KH, H + pH), likewise columns; the divisor is (he - hs)*(we - ws) with countIncludePad,
/// else the number of real input elements in the window.
/// </summary>
public static class PoolingReference
{
    // x: (N, C, H, W); y: (N, C, OH, OW) overwritten; argmax: (N, C, OH, OW) overwritten with h*W + w
    public static void MaxForward(in Pool2dGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax)
    {
        g.Validate();
        for (int p = 0; p < g.Batch * g.Channels; p++)
        for (int i = 0; i < g.OutHeight; i++)
        for (int j = 0; j < g.OutWidth; j++)
        {
            float best = 0f;
            int bestIndex = -1;
            for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
            {
                int h = i * g.StrideHeight - g.PadHeight + kh, w = j * g.StrideWidth - g.PadWidth + kw;
                if (h < 0 || h >= g.InHeight || w < 0 || w >= g.InWidth) continue;
                float v = x[(p * g.InHeight + h) * g.InWidth + w];
                if (bestIndex < 0 || (!float.IsNaN(best) && (v > best || float.IsNaN(v))))
                {
                    best = v;
                    bestIndex = h * g.InWidth + w;
                }
            }
            int o = (p * g.OutHeight + i) * g.OutWidth + j;
            y[o] = best;
            argmax[o] = bestIndex;
        }
    }

    // dy: (N, C, OH, OW); argmax: (N, C, OH, OW); dx: (N, C, H, W) overwritten
    public static void MaxBackward(in Pool2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        g.Validate();
        dx.Clear();
        int plane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth;
        for (int p = 0; p < g.Batch * g.Channels; p++)
        for (int o = 0; o < outPlane; o++)
            dx[p * plane + argmax[p * outPlane + o]] += dy[p * outPlane + o];
    }

    // x: (N, C, H, W); y: (N, C, OH, OW) overwritten
    public static void AvgForward(in Pool2dGeometry g, ReadOnlySpan<float> x, Span<float> y, bool countIncludePad)
    {
        g.Validate();
        for (int p = 0; p < g.Batch * g.Channels; p++)
        for (int i = 0; i < g.OutHeight; i++)
        for (int j = 0; j < g.OutWidth; j++)
        {
            double sum = 0;
            int real = 0;
            for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
            {
                int h = i * g.StrideHeight - g.PadHeight + kh, w = j * g.StrideWidth - g.PadWidth + kw;
                if (h < 0 || h >= g.InHeight || w < 0 || w >= g.InWidth) continue;
                sum += x[(p * g.InHeight + h) * g.InWidth + w];
                real++;
            }
            y[(p * g.OutHeight + i) * g.OutWidth + j] = (float)(sum / Divisor(g, i, j, real, countIncludePad));
        }
    }

    // dy: (N, C, OH, OW); dx: (N, C, H, W) overwritten
    public static void AvgBackward(in Pool2dGeometry g, ReadOnlySpan<float> dy, Span<float> dx, bool countIncludePad)
    {
        g.Validate();
        var acc = new double[dx.Length];
        for (int p = 0; p < g.Batch * g.Channels; p++)
        for (int i = 0; i < g.OutHeight; i++)
        for (int j = 0; j < g.OutWidth; j++)
        {
            int real = 0;
            for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
            {
                int h = i * g.StrideHeight - g.PadHeight + kh, w = j * g.StrideWidth - g.PadWidth + kw;
                if (h >= 0 && h < g.InHeight && w >= 0 && w < g.InWidth) real++;
            }
            double share = dy[(p * g.OutHeight + i) * g.OutWidth + j] / (double)Divisor(g, i, j, real, countIncludePad);
            for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
            {
                int h = i * g.StrideHeight - g.PadHeight + kh, w = j * g.StrideWidth - g.PadWidth + kw;
                if (h < 0 || h >= g.InHeight || w < 0 || w >= g.InWidth) continue;
                acc[(p * g.InHeight + h) * g.InWidth + w] += share;
            }
        }
        for (int t = 0; t < acc.Length; t++) dx[t] = (float)acc[t];
    }

    // Adaptive average pooling (PyTorch's window rule): output cell i covers [floor(i*in/out), ceil((i+1)*in/out)),
    // summed in float in row-major order from 0. x: (P, H, W); y: (P, OH, OW) overwritten
    public static void AdaptiveAvgForward(int planes, int h, int w, int oh, int ow, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh, w0 = j * w / ow, w1 = ((j + 1) * w + ow - 1) / ow;
            float s = 0;
            for (int r = h0; r < h1; r++)
            for (int c = w0; c < w1; c++) s += x[(p * h + r) * w + c];
            y[(p * oh + i) * ow + j] = s / ((h1 - h0) * (w1 - w0));
        }
    }

    // dy: (P, OH, OW); dx: (P, H, W) overwritten: each dy over its window's size, added to its window in output order.
    public static void AdaptiveAvgBackward(int planes, int h, int w, int oh, int ow, ReadOnlySpan<float> dy, Span<float> dx)
    {
        dx.Clear();
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh, w0 = j * w / ow, w1 = ((j + 1) * w + ow - 1) / ow;
            float d = dy[(p * oh + i) * ow + j] / ((h1 - h0) * (w1 - w0));
            for (int r = h0; r < h1; r++)
            for (int c = w0; c < w1; c++) dx[(p * h + r) * w + c] += d;
        }
    }

    private static int Divisor(in Pool2dGeometry g, int i, int j, int real, bool countIncludePad)
    {
        if (!countIncludePad) return real;
        int hs = i * g.StrideHeight - g.PadHeight, ws = j * g.StrideWidth - g.PadWidth;
        int he = Math.Min(hs + g.KernelHeight, g.InHeight + g.PadHeight);
        int we = Math.Min(ws + g.KernelWidth, g.InWidth + g.PadWidth);
        return (he - hs) * (we - ws);
    }
}
