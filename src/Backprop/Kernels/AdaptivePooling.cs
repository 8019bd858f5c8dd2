using System.Runtime.CompilerServices;

namespace Backprop.Kernels;

/// <summary>
/// Adaptive average pooling (PyTorch's window rule): output cell i covers [floor(i·in/out), ceil((i+1)·in/out)).
/// Threaded over the planes; each window is summed in float in row-major order from 0, as
/// <see cref="PoolingReference.AdaptiveAvgForward"/>, so the results are the reference's bit for bit. Global
/// pooling (a 1x1 output, ResNets' last layer) sums four planes at a time to overlap their addition chains.
/// </summary>
public static unsafe class AdaptivePooling
{
    // Inputs of fewer floats than this run on the calling thread: a batch-1 ResNet's global pooling (64 planes of 8x8)
    // took 2.9 µs on one thread and 4.9 µs on two, the hand-over and the other core's half of the result costing more
    // than the half of the sums it saved.
    private const long SerialBelow = 1 << 16;

    // body over [0, planes) on the kernel threads, or on this thread where the planes hold fewer than SerialBelow floats.
    // Each plane is summed alone, so the split changes no bits.
    private static void Split(int planes, long floats, Action<int, int> body)
    {
        if (floats < SerialBelow) body(0, planes);
        else KernelThreads.For(planes, body);
    }

    /// <summary>y = the mean of each window.</summary>
    // x: (P, H, W) planes, y: (P, OH, OW) overwritten
    public static void AvgForward(int planes, int h, int w, int oh, int ow, ReadOnlySpan<float> x, Span<float> y)
    {
        Check(planes, h, w, oh, ow, x.Length, y.Length, "x", "y");
        fixed (float* px = x, py = y)
        {
            nint ix = (nint)px, iy = (nint)py;
            Split(planes, (long)planes * h * w, (s, e) =>
            {
                if (oh == 1 && ow == 1) GlobalForward((float*)ix, (float*)iy, h * w, s, e);
                else WindowsForward((float*)ix, (float*)iy, h, w, oh, ow, s, e);
            });
        }
    }

    /// <summary>dx = each dy over its window's size, added to its window's inputs in output order.</summary>
    // dy: (P, OH, OW), dx: (P, H, W) overwritten
    public static void AvgBackward(int planes, int h, int w, int oh, int ow, ReadOnlySpan<float> dy, Span<float> dx)
    {
        Check(planes, h, w, oh, ow, dx.Length, dy.Length, "dx", "dy");
        fixed (float* pdy = dy, pdx = dx)
        {
            nint idy = (nint)pdy, idx = (nint)pdx;
            Split(planes, (long)planes * h * w, (s, e) =>
            {
                int plane = h * w, outPlane = oh * ow;
                for (int p = s; p < e; p++)
                {
                    float* d = (float*)idx + (long)p * plane;
                    float* g = (float*)idy + (long)p * outPlane;
                    if (outPlane == 1)
                    {
                        new Span<float>(d, plane).Fill(g[0] / plane + 0f);   // + 0 as the reference's 0 + share: -0 becomes +0
                        continue;
                    }
                    new Span<float>(d, plane).Clear();
                    for (int i = 0; i < oh; i++)
                    {
                        int h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh;
                        for (int j = 0; j < ow; j++)
                        {
                            int w0 = j * w / ow, w1 = ((j + 1) * w + ow - 1) / ow;
                            float share = g[i * ow + j] / ((h1 - h0) * (w1 - w0));
                            for (int r = h0; r < h1; r++)
                                for (int c = w0; c < w1; c++) d[r * w + c] += share;
                        }
                    }
                }
            });
        }
    }

    // x: (P, n) planes; y: (P) their means
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GlobalForward(float* x, float* y, int n, int s, int e)
    {
        int p = s;
        for (; p + 4 <= e; p += 4)
        {
            float* a = x + (long)p * n, b = a + n, c = b + n, d = c + n;
            float sa = 0, sb = 0, sc = 0, sd = 0;
            for (int k = 0; k < n; k++) { sa += a[k]; sb += b[k]; sc += c[k]; sd += d[k]; }
            y[p] = sa / n; y[p + 1] = sb / n; y[p + 2] = sc / n; y[p + 3] = sd / n;
        }
        for (; p < e; p++)
        {
            float* a = x + (long)p * n;
            float sa = 0;
            for (int k = 0; k < n; k++) sa += a[k];
            y[p] = sa / n;
        }
    }

    // x: (P, H, W); y: (P, OH, OW)
    private static void WindowsForward(float* x, float* y, int h, int w, int oh, int ow, int s, int e)
    {
        for (int p = s; p < e; p++)
        {
            float* src = x + (long)p * h * w;
            for (int i = 0; i < oh; i++)
            {
                int h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh;
                for (int j = 0; j < ow; j++)
                {
                    int w0 = j * w / ow, w1 = ((j + 1) * w + ow - 1) / ow;
                    float sum = 0;
                    for (int r = h0; r < h1; r++)
                        for (int c = w0; c < w1; c++) sum += src[r * w + c];
                    y[((long)p * oh + i) * ow + j] = sum / ((h1 - h0) * (w1 - w0));
                }
            }
        }
    }

    private static void Check(int planes, int h, int w, int oh, int ow, int inputLength, int outputLength, string inputName, string outputName)
    {
        if (planes < 0 || h < 1 || w < 1 || oh < 1 || ow < 1)
            throw new ArgumentException($"AdaptivePooling: planes {planes}, input {h}x{w} and output {oh}x{ow} must be positive.");
        if ((long)planes * h * w != inputLength)
            throw new ArgumentException($"AdaptivePooling: {inputName} (P, H, W) needs {(long)planes * h * w} elements but has {inputLength}.", inputName);
        if ((long)planes * oh * ow != outputLength)
            throw new ArgumentException($"AdaptivePooling: {outputName} (P, OH, OW) needs {(long)planes * oh * ow} elements but has {outputLength}.", outputName);
    }
}
