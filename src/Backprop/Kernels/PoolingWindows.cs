using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Pooling with any window at column stride 1 or 2, vectorised across the output columns of a row: a block of V
/// outputs reads its window's candidate (r, kw) for all V columns with one load (stride 1) or one even/odd split of
/// 2V floats (stride 2). Windows clipped by the input's edges use per-lane masks (<see cref="PoolColumns"/>), so
/// every output of the row is computed the same way. Each lane visits its window in row-major order exactly as the
/// scalar loops of <see cref="Pooling"/> do, so max (and its argmax) and the float sums of average pooling are the
/// same bit for bit at every width.
/// </summary>
internal static unsafe class PoolingWindows
{
    /// <summary>The column plan for g at the given width, or null when stride or output width rule vectors out.</summary>
    public static PoolColumns? Plan(in Pool2dGeometry g, int width)
    {
        if (g.StrideWidth > 2) return null;
        int lanes = SimdWidth.Allows512(width) && g.OutWidth >= 16 ? 16
            : SimdWidth.Allows256(width) && g.OutWidth >= 8 ? 8
            : SimdWidth.Allows128(width) && g.OutWidth >= 4 ? 4 : 0;
        return lanes == 0 ? null : new PoolColumns(g, lanes);
    }

    /// <summary>Max pooling of planes [p0, p1) with plan c.</summary>
    // x: (P, H, W) whole input, lo/hi its bounds; y, argmax: (P, OH, OW)
    // relu: store max(best, 0) with Activations.ReluForward's bits (the argmax stays the pooling's).
    public static void MaxPlanes(in Pool2dGeometry g, PoolColumns c, float* x, float* y, int* argmax, int p0, int p1, float* lo, float* hi, bool relu = false)
    {
        if (c.Lanes == 16) MaxPlanes<Lanes512, Vector512<float>, Vector512<int>>(g, c, x, y, argmax, p0, p1, lo, hi, relu);
        else if (c.Lanes == 8) MaxPlanes<Lanes256, Vector256<float>, Vector256<int>>(g, c, x, y, argmax, p0, p1, lo, hi, relu);
        else MaxPlanes<Lanes128, Vector128<float>, Vector128<int>>(g, c, x, y, argmax, p0, p1, lo, hi, relu);
    }

    /// <summary>Average pooling of planes [p0, p1) with plan c.</summary>
    // x: (P, H, W) whole input, lo/hi its bounds; y: (P, OH, OW)
    public static void AvgPlanes(in Pool2dGeometry g, PoolColumns c, float* x, float* y, bool countIncludePad, int p0, int p1, float* lo, float* hi)
    {
        if (c.Lanes == 16) AvgPlanes<Lanes512, Vector512<float>, Vector512<int>>(g, c, x, y, countIncludePad, p0, p1, lo, hi);
        else if (c.Lanes == 8) AvgPlanes<Lanes256, Vector256<float>, Vector256<int>>(g, c, x, y, countIncludePad, p0, p1, lo, hi);
        else AvgPlanes<Lanes128, Vector128<float>, Vector128<int>>(g, c, x, y, countIncludePad, p0, p1, lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPlanes<L, TF, TI>(Pool2dGeometry g, PoolColumns c, float* x, float* y, int* argmax, int p0, int p1, float* lo, float* hi, bool relu)
        where L : IPoolLanes<TF, TI> where TF : unmanaged where TI : unmanaged
    {
        int v = L.Count, w = g.InWidth, plane = g.InHeight * w, outPlane = g.OutHeight * g.OutWidth, kw = g.KernelWidth, s = g.StrideWidth;
        int span = kw - 1 + s * v;
        float[] edge = new float[2 * span];   // one edge copy per chain
        fixed (int* starts = c.BlockStart, valid = c.Valid, firstValid = c.FirstValid)
        fixed (float* copy = edge)
        {
            TI laneStep = L.LoadInt(c.LaneStepPointer);
            for (int p = p0; p < p1; p++)
            {
                float* src = x + (long)p * plane;
                for (int i = 0; i < g.OutHeight; i++)
                {
                    int h0 = Math.Max(i * g.StrideHeight - g.PadHeight, 0), h1 = Math.Min(i * g.StrideHeight - g.PadHeight + g.KernelHeight, g.InHeight);
                    long o = (long)p * outPlane + (long)i * g.OutWidth;
                    // Two output rows with windows of as many input rows run as two independent chains of Take (each Take waits
                    // for the one before: one chain alone leaves the vector units idle); each keeps its own row-major order.
                    int g0 = Math.Max((i + 1) * g.StrideHeight - g.PadHeight, 0), g1 = Math.Min((i + 1) * g.StrideHeight - g.PadHeight + g.KernelHeight, g.InHeight);
                    bool pair = i + 1 < g.OutHeight && g1 - g0 == h1 - h0;
                    for (int b = 0; b < c.Blocks; b++)
                    {
                        int col0 = starts[b] * s - g.PadWidth;
                        TF best = L.Splat(float.NegativeInfinity);   // taken by any real candidate but -inf; then firstValid is right
                        TI first = L.LoadInt(firstValid + b * v);
                        TI index = L.Add(first, L.Splat(h0 * w));
                        float* masks = (float*)(valid + b * kw * v);
                        if (pair)
                        {
                            TF best2 = best;
                            TI index2 = L.Add(first, L.Splat(g0 * w));
                            for (int t = 0; t < h1 - h0; t++)
                            {
                                int r = h0 + t, r2 = g0 + t;
                                float* at = Reachable(src + r * w + col0, span, lo, hi, copy);
                                float* at2 = Reachable(src + r2 * w + col0, span, lo, hi, copy + span);
                                for (int k = 0; k < kw; k++)
                                {
                                    TF mask = L.Load(masks + k * v);
                                    TI step = L.Add(laneStep, L.Splat(col0 + k));
                                    L.Take(s == 1 ? L.Load(at + k) : L.LoadEven(at + k), L.Add(step, L.Splat(r * w)), mask, ref best, ref index);
                                    L.Take(s == 1 ? L.Load(at2 + k) : L.LoadEven(at2 + k), L.Add(step, L.Splat(r2 * w)), mask, ref best2, ref index2);
                                }
                            }
                            L.Store(relu ? L.Relu(best2) : best2, y + o + g.OutWidth + starts[b]);
                            L.Store(index2, argmax + o + g.OutWidth + starts[b]);
                        }
                        else
                            for (int r = h0; r < h1; r++)
                            {
                                float* at = Reachable(src + r * w + col0, span, lo, hi, copy);
                                for (int k = 0; k < kw; k++)
                                {
                                    TF candidate = s == 1 ? L.Load(at + k) : L.LoadEven(at + k);
                                    L.Take(candidate, L.Add(laneStep, L.Splat(r * w + col0 + k)), L.Load(masks + k * v), ref best, ref index);
                                }
                            }
                        L.Store(relu ? L.Relu(best) : best, y + o + starts[b]);
                        L.Store(index, argmax + o + starts[b]);
                    }
                    if (pair) i++;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AvgPlanes<L, TF, TI>(Pool2dGeometry g, PoolColumns c, float* x, float* y, bool countIncludePad, int p0, int p1, float* lo, float* hi)
        where L : IPoolLanes<TF, TI> where TF : unmanaged where TI : unmanaged
    {
        int v = L.Count, w = g.InWidth, plane = g.InHeight * w, outPlane = g.OutHeight * g.OutWidth, kw = g.KernelWidth, s = g.StrideWidth;
        int span = kw - 1 + s * v;
        float[] edge = new float[span];
        fixed (int* starts = c.BlockStart, valid = c.Valid)
        fixed (float* spans = countIncludePad ? c.SpanPadded : c.SpanReal, copy = edge)
        {
            for (int p = p0; p < p1; p++)
            {
                float* src = x + (long)p * plane;
                for (int i = 0; i < g.OutHeight; i++)
                {
                    int start = i * g.StrideHeight - g.PadHeight, end = Math.Min(start + g.KernelHeight, g.InHeight + g.PadHeight);
                    int h0 = Math.Max(start, 0), h1 = Math.Min(end, g.InHeight);
                    TF rows = L.Splat((float)(countIncludePad ? end - start : h1 - h0));
                    long o = (long)p * outPlane + (long)i * g.OutWidth;
                    for (int b = 0; b < c.Blocks; b++)
                    {
                        int col0 = starts[b] * s - g.PadWidth;
                        TF sum = L.Splat(0f);
                        float* masks = (float*)(valid + b * kw * v);
                        for (int r = h0; r < h1; r++)
                        {
                            float* at = Reachable(src + r * w + col0, span, lo, hi, copy);
                            for (int k = 0; k < kw; k++) sum = L.AddWhere(sum, s == 1 ? L.Load(at + k) : L.LoadEven(at + k), L.Load(masks + k * v));
                        }
                        // rows * columns is a small integer, exact in float: the same divisor as the scalar loop's int.
                        L.Store(L.Divide(sum, L.Multiply(rows, L.Load(spans + b * v))), y + o + starts[b]);
                    }
                }
            }
        }
    }

    // The loads of one block's row read [p, p + span): at stride 2 each reads 2V floats and keeps the even ones.
    // Lanes whose column lies outside the row are masked by the caller, so the loads may read neighbouring rows;
    // only near the ends of the whole input [lo, hi) is the range copied (zeros outside) so that none reads past them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Reachable(float* p, int span, float* lo, float* hi, float* copy)
    {
        if (p >= lo && p + span <= hi) return p;
        for (int t = 0; t < span; t++) copy[t] = p + t >= lo && p + t < hi ? p[t] : 0f;
        return copy;
    }
}

/// <summary>
/// How the output columns of every row split into blocks of V lanes (the last block moved back to end at the row's
/// end, overlapping the one before: its shared outputs are computed twice, identically), and per lane the facts
/// about its window's columns that do not depend on the row.
/// </summary>
internal sealed unsafe class PoolColumns
{
    /// <summary>V.</summary>
    public readonly int Lanes;
    /// <summary>Number of blocks per output row.</summary>
    public readonly int Blocks;
    /// <summary>(block): the block's first output column.</summary>
    public readonly int[] BlockStart;
    /// <summary>(block, kw, lane): -1 (all bits set) where column j*sW - pW + kw is inside the input, else 0.</summary>
    public readonly int[] Valid;
    /// <summary>(block, lane): the window's first real column, max(j*sW - pW, 0).</summary>
    public readonly int[] FirstValid;
    /// <summary>(block, lane): the window's width clipped to the padded input (the divisor with countIncludePad).</summary>
    public readonly float[] SpanPadded;
    /// <summary>(block, lane): the window's real columns.</summary>
    public readonly float[] SpanReal;
    private readonly int[] laneStep;   // (lane): lane * sW, padded to 16 and pinned for the lifetime of the plan

    public PoolColumns(in Pool2dGeometry g, int lanes)
    {
        Lanes = lanes;
        Blocks = (g.OutWidth + lanes - 1) / lanes;
        BlockStart = new int[Blocks];
        for (int b = 0; b < Blocks; b++) BlockStart[b] = Math.Min(b * lanes, g.OutWidth - lanes);
        Valid = new int[Blocks * g.KernelWidth * lanes];
        FirstValid = new int[Blocks * lanes];
        SpanPadded = new float[Blocks * lanes];
        SpanReal = new float[Blocks * lanes];
        for (int b = 0; b < Blocks; b++)
            for (int t = 0; t < lanes; t++)
            {
                int start = (BlockStart[b] + t) * g.StrideWidth - g.PadWidth;
                int end = Math.Min(start + g.KernelWidth, g.InWidth + g.PadWidth);
                FirstValid[b * lanes + t] = Math.Max(start, 0);
                SpanPadded[b * lanes + t] = end - start;
                SpanReal[b * lanes + t] = Math.Min(end, g.InWidth) - Math.Max(start, 0);
                for (int k = 0; k < g.KernelWidth; k++)
                    Valid[(b * g.KernelWidth + k) * lanes + t] = start + k >= 0 && start + k < g.InWidth ? -1 : 0;
            }
        laneStep = GC.AllocateArray<int>(16, pinned: true);
        for (int t = 0; t < 16; t++) laneStep[t] = t * g.StrideWidth;
    }

    /// <summary>(lane): lane * sW.</summary>
    public int* LaneStepPointer => (int*)Unsafe.AsPointer(ref laneStep[0]);
}
