namespace Backprop.Kernels;

/// <summary>
/// 2-D max and average pooling, threaded over the N*C planes (each plane is independent, so results
/// do not depend on the thread count). Windows are clipped to the input; see
/// <see cref="PoolingReference"/> for the definition, ties and NaN.
/// Which path runs:
/// <list type="bullet">
/// <item>2x2 stride 2 without padding: <see cref="Pooling2x2"/> (LeNet, VGG), the scalar loop finishing each row; max
/// backward by <see cref="Pooling2x2Backward"/> (each input written once, no clearing pass).</item>
/// <item>any other window at column stride 1 or 2 with at least 4 output columns and SIMD: <see cref="PoolingWindows"/>
/// for max and average forward.</item>
/// <item>average backward for every window but 2x2 stride 2: <see cref="PoolingAvgBackward"/> (gathers, vector sums).</item>
/// <item>otherwise (column stride 3 or more, narrow outputs, scalar width): the scalar loops here.</item>
/// </list>
/// Max forward and backward can carry a following ReLU (Functional.MaxPool2dRelu, which Caffe nets use for a MAX pooling
/// followed by an in-place ReLU): PoolingWindows stores max(best, 0) as it stores each block, the other paths run the ReLU
/// over their own planes; backward masks each dy by the output as it scatters (the 2x2 paths mask dy first).
/// Max and argmax are the reference's exactly; max backward adds in output order as the reference does. Average
/// sums in float (the reference in double): the same bits at every SIMD width and thread count.
/// </summary>
public static unsafe class Pooling
{
    /// <summary>y = the maximum of each window; argmax = its flat index h*W + w in the input plane.</summary>
    // x: (N, C, H, W); y: (N, C, OH, OW) overwritten; argmax: (N, C, OH, OW) overwritten
    public static void MaxForward(in Pool2dGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax) => MaxForward(g, x, y, argmax, relu: false);

    /// <summary>
    /// <see cref="MaxForward(in Pool2dGeometry, ReadOnlySpan{float}, Span{float}, Span{int})"/>; with <paramref name="relu"/>,
    /// y = max(that maximum, 0) with <see cref="Activations.ReluForward"/>'s bits (a max pooling followed by a ReLU, as in
    /// Caffe's cifar10 nets, in one pass; the argmax is the pooling's own).
    /// </summary>
    public static void MaxForward(in Pool2dGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, bool relu)
    {
        Check(g, x.Length, y.Length, "x", "y");
        if (argmax.Length != g.OutputLength)
            throw new ArgumentException($"Pooling: argmax (N, C, OH, OW) needs {g.OutputLength} elements but has {argmax.Length}.", nameof(argmax));
        Pool2dGeometry geo = g;
        PoolColumns? plan = Pooling2x2.Applies(g) ? null : PoolingWindows.Plan(g, SimdWidth.Max);
        fixed (float* px = x, py = y)
        fixed (int* pi = argmax)
        {
            nint ix = (nint)px, iy = (nint)py, ii = (nint)pi, end = (nint)(px + x.Length);
            KernelThreads.For(g.Batch * g.Channels, (s, e) =>
            {
                if (plan is not null) PoolingWindows.MaxPlanes(geo, plan, (float*)ix, (float*)iy, (int*)ii, s, e, (float*)ix, (float*)end, relu);
                else
                {
                    MaxForwardPlanes(geo, s, e, (float*)ix, (float*)iy, (int*)ii);
                    if (relu)
                    {
                        int outPlane = geo.OutHeight * geo.OutWidth;
                        var planes = new Span<float>((float*)iy + (long)s * outPlane, (e - s) * outPlane);
                        Activations.ReluInPlace(planes);
                    }
                }
            });
        }
    }

    /// <summary>
    /// y = the maximum of each window, <see cref="MaxForward(in Pool2dGeometry, ReadOnlySpan{float}, Span{float}, Span{int})"/>'s values without the argmax (inference: nothing will need
    /// it). 2x2 stride-2 windows on planes wider than 8 skip the index work and the argmax writes; others run MaxForward
    /// into a rented argmax.
    /// </summary>
    // x: (N, C, H, W); y: (N, C, OH, OW) overwritten
    public static void MaxForwardValues(in Pool2dGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        Check(g, x.Length, y.Length, "x", "y");
        if (!Pooling2x2.Applies(g) || Pooling2x2.AppliesToWidth8(g, SimdWidth.Max))
        {
            int[] argmax = System.Buffers.ArrayPool<int>.Shared.Rent((int)g.OutputLength);
            try { MaxForward(g, x, y, argmax.AsSpan(0, (int)g.OutputLength)); }
            finally { System.Buffers.ArrayPool<int>.Shared.Return(argmax); }
            return;
        }
        Pool2dGeometry geo = g;
        fixed (float* px = x, py = y)
        {
            nint ix = (nint)px, iy = (nint)py;
            KernelThreads.For(g.Batch * g.Channels, (s, e) => MaxValuesPlanes(geo, s, e, (float*)ix, (float*)iy));
        }
    }

    // Planes [s, e) of a 2x2 stride-2 pooling: Pooling2x2.MaxRowValues, then the scalar windows of MaxWindow.
    private static void MaxValuesPlanes(Pool2dGeometry g, int s, int e, float* x, float* y)
    {
        int h = g.InHeight, w = g.InWidth, plane = h * w, outPlane = g.OutHeight * g.OutWidth, width = SimdWidth.Max;
        for (int p = s; p < e; p++)
        {
            float* src = x + (long)p * plane, dst = y + (long)p * outPlane;
            for (int i = 0; i < g.OutHeight; i++)
            {
                int first = 2 * i + 2 <= h ? Pooling2x2.MaxRowValues(width, src, w, i, Math.Min(g.OutWidth, w / 2), dst + i * g.OutWidth) : 0;
                for (int j = first; j < g.OutWidth; j++) dst[i * g.OutWidth + j] = MaxWindow(g, src, i, j, out _);
            }
        }
    }

    /// <summary>dx[argmax] += dy for each output; every other dx is zero.</summary>
    // dy: (N, C, OH, OW); argmax: (N, C, OH, OW); dx: (N, C, H, W) overwritten
    public static void MaxBackward(in Pool2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx) =>
        MaxBackward(g, dy, argmax, dx, default);

    /// <summary>
    /// The backward of <see cref="MaxForward(in Pool2dGeometry, ReadOnlySpan{float}, Span{float}, Span{int}, bool)"/> with relu:
    /// dx[argmax] += (y &gt; 0 ? dy : 0), the bits of <see cref="Activations.ReluBackward"/> on y followed by the pooling's
    /// backward. An empty <paramref name="reluOutput"/> is the plain backward.
    /// </summary>
    // reluOutput: the fused forward's y (N, C, OH, OW), or empty
    public static void MaxBackward(in Pool2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, ReadOnlySpan<float> reluOutput)
    {
        Check(g, dx.Length, dy.Length, "dx", "dy");
        if (argmax.Length != g.OutputLength)
            throw new ArgumentException($"Pooling: argmax (N, C, OH, OW) needs {g.OutputLength} elements but has {argmax.Length}.", nameof(argmax));
        bool masked = !reluOutput.IsEmpty;
        if (masked && reluOutput.Length != g.OutputLength)
            throw new ArgumentException($"Pooling: the ReLU output (N, C, OH, OW) needs {g.OutputLength} elements but has {reluOutput.Length}.", nameof(reluOutput));
        if (masked && Pooling2x2.Applies(g))
        {
            // The 2x2 paths take dy as it is: mask it first (ReluBackward's bits), then the plain backward.
            float[] m = System.Buffers.ArrayPool<float>.Shared.Rent((int)g.OutputLength);
            try
            {
                var maskedDy = m.AsSpan(0, (int)g.OutputLength);
                Activations.ReluBackward(reluOutput, dy, maskedDy);
                MaxBackward(g, maskedDy, argmax, dx, default);
            }
            finally { System.Buffers.ArrayPool<float>.Shared.Return(m); }
            return;
        }
        Pool2dGeometry geo = g;
        fixed (float* pdy = dy, pdx = dx, pry = reluOutput)
        fixed (int* pi = argmax)
        {
            nint idy = (nint)pdy, idx = (nint)pdx, ii = (nint)pi, iry = (nint)pry;
            KernelThreads.For(g.Batch * g.Channels, (s, e) =>
            {
                int plane = geo.InHeight * geo.InWidth, outPlane = geo.OutHeight * geo.OutWidth;
                int width = SimdWidth.Max;
                bool width8 = Pooling2x2.AppliesToWidth8(geo, width) && geo.InHeight == 2 * geo.OutHeight && geo.OutHeight % 2 == 0;
                bool twoByTwo = Pooling2x2.Applies(geo);
                for (int p = s; p < e; p++)
                {
                    float* d = (float*)idx + (long)p * plane;
                    float* src = (float*)idy + (long)p * outPlane;
                    int* arg = (int*)ii + (long)p * outPlane;
                    if (width8 ? Pooling2x2.MaxBackwardPlane8(src, arg, geo.OutHeight, d) : twoByTwo && Pooling2x2Backward.Plane(geo, width, src, arg, d)) continue;
                    new Span<float>(d, plane).Clear();
                    if (masked)
                    {
                        float* yr = (float*)iry + (long)p * outPlane;
                        for (int o = 0; o < outPlane; o++)
                        {
                            int at = arg[o];
                            if ((uint)at >= (uint)plane)
                                throw new ArgumentException($"Pooling: argmax {at} is outside the {geo.InHeight}x{geo.InWidth} input plane.", nameof(argmax));
                            d[at] += yr[o] > 0 ? src[o] : 0f;
                        }
                        continue;
                    }
                    for (int o = 0; o < outPlane; o++)
                    {
                        int at = arg[o];
                        if ((uint)at >= (uint)plane)
                            throw new ArgumentException($"Pooling: argmax {at} is outside the {geo.InHeight}x{geo.InWidth} input plane.", nameof(argmax));
                        d[at] += src[o];
                    }
                }
            });
        }
    }

    /// <summary>y = the sum of each window over its divisor (see <see cref="PoolingReference"/>).</summary>
    // x: (N, C, H, W); y: (N, C, OH, OW) overwritten
    public static void AvgForward(in Pool2dGeometry g, ReadOnlySpan<float> x, Span<float> y, bool countIncludePad)
    {
        Check(g, x.Length, y.Length, "x", "y");
        Pool2dGeometry geo = g;
        PoolColumns? plan = Pooling2x2.Applies(g) ? null : PoolingWindows.Plan(g, SimdWidth.Max);
        fixed (float* px = x, py = y)
        {
            nint ix = (nint)px, iy = (nint)py, end = (nint)(px + x.Length);
            KernelThreads.For(g.Batch * g.Channels, (s, e) =>
            {
                if (plan is not null)
                {
                    PoolingWindows.AvgPlanes(geo, plan, (float*)ix, (float*)iy, countIncludePad, s, e, (float*)ix, (float*)end);
                    return;
                }
                int h = geo.InHeight, w = geo.InWidth, plane = h * w, outPlane = geo.OutHeight * geo.OutWidth;
                bool fast = Pooling2x2.Applies(geo);
                int width = SimdWidth.Max;
                for (int p = s; p < e; p++)
                {
                    float* src = (float*)ix + (long)p * plane;
                    float* dst = (float*)iy + (long)p * outPlane;
                    for (int i = 0; i < geo.OutHeight; i++)
                    {
                        Window(geo.StrideHeight, geo.PadHeight, geo.KernelHeight, h, i, out int h0, out int h1, out int hSpan);
                        int first = fast && 2 * i + 2 <= h ? Pooling2x2.AvgRow(width, src, w, i, Math.Min(geo.OutWidth, w / 2), dst + i * geo.OutWidth) : 0;
                        for (int j = first; j < geo.OutWidth; j++)
                        {
                            Window(geo.StrideWidth, geo.PadWidth, geo.KernelWidth, w, j, out int w0, out int w1, out int wSpan);
                            float sum = 0f;
                            for (int r = h0; r < h1; r++)
                                for (int c = w0; c < w1; c++) sum += src[r * w + c];
                            int divisor = countIncludePad ? hSpan * wSpan : (h1 - h0) * (w1 - w0);
                            dst[i * geo.OutWidth + j] = sum / divisor;
                        }
                    }
                }
            });
        }
    }

    /// <summary>dx = each dy spread evenly (over its divisor) across its window's real inputs.</summary>
    // dy: (N, C, OH, OW); dx: (N, C, H, W) overwritten
    public static void AvgBackward(in Pool2dGeometry g, ReadOnlySpan<float> dy, Span<float> dx, bool countIncludePad)
    {
        Check(g, dx.Length, dy.Length, "dx", "dy");
        Pool2dGeometry geo = g;
        float[]? divisors = Pooling2x2.Applies(g) ? null : PoolingAvgBackward.Divisors(g, countIncludePad);
        fixed (float* pdy = dy, pdx = dx)
        {
            nint idy = (nint)pdy, idx = (nint)pdx;
            KernelThreads.For(g.Batch * g.Channels, (s, e) =>
            {
                if (divisors is not null)
                {
                    PoolingAvgBackward.Planes(geo, divisors, s, e, (float*)idy, (float*)idx);
                    return;
                }
                int h = geo.InHeight, w = geo.InWidth, plane = h * w, outPlane = geo.OutHeight * geo.OutWidth;
                bool fast = Pooling2x2.Applies(geo);
                int width = SimdWidth.Max;
                for (int p = s; p < e; p++)
                {
                    float* d = (float*)idx + (long)p * plane;
                    float* src = (float*)idy + (long)p * outPlane;
                    new Span<float>(d, plane).Clear();
                    for (int i = 0; i < geo.OutHeight; i++)
                    {
                        Window(geo.StrideHeight, geo.PadHeight, geo.KernelHeight, h, i, out int h0, out int h1, out int hSpan);
                        int first = fast && 2 * i + 2 <= h ? Pooling2x2.AvgBackwardRow(width, src + i * geo.OutWidth, i, Math.Min(geo.OutWidth, w / 2), d, w) : 0;
                        for (int j = first; j < geo.OutWidth; j++)
                        {
                            Window(geo.StrideWidth, geo.PadWidth, geo.KernelWidth, w, j, out int w0, out int w1, out int wSpan);
                            int divisor = countIncludePad ? hSpan * wSpan : (h1 - h0) * (w1 - w0);
                            float share = src[i * geo.OutWidth + j] / divisor;
                            for (int r = h0; r < h1; r++)
                                for (int c = w0; c < w1; c++) d[r * w + c] += share;
                        }
                    }
                }
            });
        }
    }

    /// <summary>The window of output o along one axis: real inputs [lo, hi); span = its size clipped to the padded input.</summary>
    private static void Window(int stride, int pad, int kernel, int size, int o, out int lo, out int hi, out int span)
    {
        int start = o * stride - pad;
        int end = Math.Min(start + kernel, size + pad);
        span = end - start;
        lo = Math.Max(start, 0);
        hi = Math.Min(end, size);
    }

    // x: (N, C, H, W); y: (N, C, OH, OW); argmax: (N, C, OH, OW)
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void MaxForwardPlanes(Pool2dGeometry g, int s, int e, float* x, float* y, int* argmax)
    {
        int h = g.InHeight, w = g.InWidth, plane = h * w, outPlane = g.OutHeight * g.OutWidth;
        bool fast = Pooling2x2.Applies(g);
        int width = SimdWidth.Max;
        bool width8 = Pooling2x2.AppliesToWidth8(g, width);
        for (int p = s; p < e; p++)
        {
            float* src = x + (long)p * plane;
            float* dst = y + (long)p * outPlane;
            int* arg = argmax + (long)p * outPlane;
            for (int i = width8 ? Pooling2x2.MaxPlane8(src, g.OutHeight, dst, arg) : 0; i < g.OutHeight; i++)
            {
                int first = fast && 2 * i + 2 <= h ? Pooling2x2.MaxRow(width, src, w, i, Math.Min(g.OutWidth, w / 2), dst + i * g.OutWidth, arg + i * g.OutWidth) : 0;
                for (int j = first; j < g.OutWidth; j++)
                {
                    dst[i * g.OutWidth + j] = MaxWindow(g, src, i, j, out int bestIndex);
                    arg[i * g.OutWidth + j] = bestIndex;
                }
            }
        }
    }

    // The maximum of output (i, j)'s window in one input plane and its flat index: the first maximum in row order, or the first NaN.
    private static float MaxWindow(in Pool2dGeometry g, float* src, int i, int j, out int bestIndex)
    {
        int w = g.InWidth;
        Window(g.StrideHeight, g.PadHeight, g.KernelHeight, g.InHeight, i, out int h0, out int h1, out _);
        Window(g.StrideWidth, g.PadWidth, g.KernelWidth, w, j, out int w0, out int w1, out _);
        bestIndex = h0 * w + w0;
        float best = src[bestIndex];
        if (float.IsNaN(best)) return best;
        for (int r = h0; r < h1; r++)
        {
            for (int c = w0; c < w1; c++)
            {
                float v = src[r * w + c];
                if (v > best) { best = v; bestIndex = r * w + c; }
                else if (float.IsNaN(v)) { bestIndex = r * w + c; return v; }
            }
        }
        return best;
    }

    private static void Check(in Pool2dGeometry g, int inputLength, int outputLength, string inputName, string outputName)
    {
        g.Validate();
        if (inputLength != g.InputLength)
            throw new ArgumentException($"Pooling: {inputName} (N, C, H, W) needs {g.InputLength} elements but has {inputLength}.", inputName);
        if (outputLength != g.OutputLength)
            throw new ArgumentException($"Pooling: {outputName} (N, C, OH, OW) needs {g.OutputLength} elements but has {outputLength}.", outputName);
    }
}
