using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The per-block work of <see cref="ConvolutionWinograd"/>: input rows copied channel-blocked (16 channels per pixel,
/// borders zero; <see cref="ConvolutionWinogradLayout"/>), the input transform V = B^T d B and the output transform
/// y = A^T M A + bias, 4x4 pixels per tile (F(4x4, 3x3) here, F(4x4, 5x5) in <see cref="ConvolutionWinograd45Transforms"/>), with 16 channels in the
/// lanes (one Vector512, or two Vector256 halves computed alike). Each 2-D transform is the 1-D one along rows into a
/// small scratch, then along columns. The hot methods are AggressiveOptimization: a short run (a few training steps,
/// one batch-1 inference) would otherwise spend its convolutions in tier-0 code, where each vector operation is a call.
/// </summary>
internal static unsafe class ConvolutionWinogradTransforms
{
    private const int L = ConvolutionWinograd.Lanes;

    // Blocks [s, e) of the plan's tiles, output channels [16 kFirst, 16 kEnd) (kEnd -1: all). x: (N, C, H, W);
    // u: (36, Kp/16, Cp, 16); bias: (Kp); y: (N, K, OH, OW). With io's Blocked flags (C, K multiples of 16), x or y is
    // (N, C/16, H, W, 16) or (N, K/16, OH, OW, 16) instead: the 16-channel pixels the transforms read and write.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Blocks(in WinogradPlan p, int width, int s, int e, float* x, float* u, float* bias, float* y, bool relu,
        int kFirst = 0, int kEnd = -1, WinogradIo io = WinogradIo.Planes)
    {
        int blockTiles = p.BlockTiles, cb = p.Cp / L, step = p.Step, positions = p.Positions;
        bool wide = p.Patch == 8;   // F(4x4, 5x5)
        int kb = kEnd < 0 ? p.Kp / L : kEnd;
        long vStride = WinogradPlan.PositionStride(blockTiles, p.Cp), vLength = positions * vStride;
        long mLength = positions * WinogradPlan.PositionStride(blockTiles, p.Kp), inLength = (long)cb * p.Hp * p.Wp * L;
        long total = vLength + mLength + inLength + positions * L + 4 * 4 * RunTiles * L + 16;
        var buffer = ScratchArena.Shared.Rent(total);
        try
        {
            float* pbuf = buffer.Pointer;
            {
                float* v = (float*)(((nint)pbuf + 63) & ~(nint)63);
                float* m = v + vLength, input = m + mLength, scratch = input + inLength, pixels = scratch + positions * L;
                long imageLength = (long)p.C * p.H * p.W;
                for (int block = s; block < e; block++)
                {
                    int t0 = block * blockTiles, count = Math.Min(blockTiles, p.Tiles - t0);
                    for (int t = t0; t < t0 + count;)
                    {
                        int n = t / p.TilesPerImage, first = t % p.TilesPerImage, last = Math.Min(p.TilesPerImage, first + t0 + count - t);
                        int r0 = step * (first / p.TilesW), r1 = step * ((last - 1) / p.TilesW) + p.Patch;
                        if ((io & WinogradIo.BlockedInput) != 0) ConvolutionWinogradLayout.CopyBlockedRows(p, x + n * imageLength, input, r0, r1);
                        else ConvolutionWinogradLayout.CopyRows(p, width, x + n * imageLength, input, r0, r1);
                        bool prefetch = Sse.IsSupported && imageLength <= WinogradPrefetch.MaxImage && n + 1 < p.Tiles / p.TilesPerImage;
                        for (int q = first; q < last; q++)
                        {
                            if (prefetch) WinogradPrefetch.Slice(x + (n + 1) * imageLength, imageLength, q - first, last - first);
                            int row = t - t0 + q - first;
                            float* d = input + ((long)step * (q / p.TilesW) * p.Wp + step * (q % p.TilesW)) * L;
                            for (int c = 0; c < cb; c++)
                            {
                                float* src = d + (long)c * p.Hp * p.Wp * L, dst = v + (long)row * p.Cp + c * L;
                                if (width >= 512)
                                {
                                    if (wide) ConvolutionWinograd45Transforms.InputTile512(src, p.Wp * L, dst, vStride, scratch);
                                    else InputTile512(src, p.Wp * L, dst, vStride, scratch);
                                }
                                else if (wide)
                                {
                                    ConvolutionWinograd45Transforms.InputTile256(src, p.Wp * L, dst, vStride, scratch);
                                    ConvolutionWinograd45Transforms.InputTile256(src + 8, p.Wp * L, dst + 8, vStride, scratch);
                                }
                                else
                                {
                                    InputTile256(src, p.Wp * L, dst, vStride, scratch);
                                    InputTile256(src + 8, p.Wp * L, dst + 8, vStride, scratch);
                                }
                            }
                        }
                        t += last - first;
                    }
                    // Rows computed: AVX-512 runs whole 12-row micro-tiles, then 4-row kernels, so only up to 3 rows are padding.
                    int rowStep = width >= 512 ? 4 : ConvolutionWinograd.RowTile;
                    int rows = (count + rowStep - 1) / rowStep * rowStep;
                    ConvolutionWinogradKernels.Products(width, p, blockTiles, rows, v, u, m, kFirst * L, kb * L);
                    OutputRuns(p, width, blockTiles, t0, count, m, bias, relu, scratch, pixels, y, kFirst, kb, (io & WinogradIo.BlockedOutput) != 0);
                }
            }
        }
        finally
        {
            ScratchArena.Shared.Return(buffer);
        }
    }

    // Tiles per run of OutputRuns: 16 tiles of 4x4 pixels x 16 channels, 16 KB of pixels.
    private const int RunTiles = 16;

    // F(4x4, 3x3)'s output transform for the block's tiles [t0, t0 + count), one 16-channel block at a time, in runs of
    // consecutive tiles of one tile row: each run's pixels go into a row buffer (4 rows, 4 * run columns, 16 channels),
    // then out to y a whole row segment per channel. Written tile by tile, each 4x4 tile touched 64 cache lines in 16
    // planes whose equal offsets share L1 sets (32x32 planes are 4 KB apart): on ResNet's 16-channel layer that
    // write took 40% of the call.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputRuns(in WinogradPlan p, int width, int blockTiles, int t0, int count, float* m, float* bias, bool relu,
        float* scratch, float* pixels, float* y, int kFirst, int kEnd, bool blocked)
    {
        long posStride = WinogradPlan.PositionStride(blockTiles, p.Kp);
        int rowStride = 4 * RunTiles * L;
        for (int c = kFirst; c < kEnd; c++)
        {
            int channels = Math.Min(L, p.K - c * L);
            for (int i = 0; i < count;)
            {
                int t = t0 + i, n = t / p.TilesPerImage, q = t % p.TilesPerImage, tr = q / p.TilesW, tc = q % p.TilesW;
                int run = Math.Min(Math.Min(count - i, p.TilesW - tc), RunTiles);
                int runRows = Math.Min(4, p.OH - 4 * tr), runCols = Math.Min(4 * run, p.OW - 4 * tc);
                // 16-channel pixels out, whole tiles: written straight into y (a copy through the row buffer cost 2-3% of
                // ResNet-20's batch-64 forward). Otherwise into the row buffer, then out.
                bool direct = blocked && runRows == 4 && runCols == 4 * run;
                float* target = direct ? y + ((((long)n * (p.Kp / L) + c) * p.OH + 4 * tr) * p.OW + 4 * tc) * L : pixels;
                int targetStride = direct ? p.OW * L : rowStride;
                for (int j = 0; j < run; j++)
                {
                    float* src = m + (long)(i + j) * p.Kp + c * L, dst = target + 4 * j * L;
                    if (p.Patch == 8)
                    {
                        if (width >= 512) ConvolutionWinograd45Transforms.OutputTile512(src, posStride, bias + c * L, relu, scratch, dst, targetStride);
                        else
                        {
                            ConvolutionWinograd45Transforms.OutputTile256(src, posStride, bias + c * L, relu, scratch, dst, targetStride);
                            ConvolutionWinograd45Transforms.OutputTile256(src + 8, posStride, bias + c * L + 8, relu, scratch, dst + 8, targetStride);
                        }
                    }
                    else if (width >= 512) OutputTile512(src, posStride, bias + c * L, relu, scratch, dst, targetStride);
                    else
                    {
                        OutputTile256(src, posStride, bias + c * L, relu, scratch, dst, targetStride);
                        OutputTile256(src + 8, posStride, bias + c * L + 8, relu, scratch, dst + 8, targetStride);
                    }
                }
                if (blocked && !direct)
                    ConvolutionWinogradLayout.WriteBlockedRun(pixels, rowStride, y + ((((long)n * (p.Kp / L) + c) * p.OH + 4 * tr) * p.OW + 4 * tc) * L,
                        p.OW * L, runRows, runCols);
                else if (!blocked)
                    ConvolutionWinogradLayout.WriteRun(width, pixels, rowStride, y + (((long)n * p.K + c * L) * p.OH + 4 * tr) * p.OW + 4 * tc,
                        (long)p.OH * p.OW, p.OW, channels, runRows, runCols);
                i += run;
            }
        }
    }

    // d: the tile's 6x6 patch of 16-channel pixels (row stride rowStride floats); v: position pos's 16 channels at
    // v + pos * posStride. Column by column of B^T d (the columns that share terms together: 1 and 2, 3 and 4), each
    // column's six row values in registers, then B^T along it: the row pass's 36 stores and loads through a scratch
    // buffer made the tile store-bound. InputLine's operations in its order, so the same bits. `scratch` is not used.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void InputTile512(float* d, int rowStride, float* v, long posStride, float* scratch)
    {
        Vector512<float> minusFour = Vector512.Create(-4f), minusFive = Vector512.Create(-5f), four = Vector512.Create(4f), two = Vector512.Create(2f);
        float* d0 = d, d1 = d + rowStride, d2 = d + 2 * rowStride, d3 = d + 3 * rowStride, d4 = d + 4 * rowStride, d5 = d + 5 * rowStride;
        long p6 = 6 * posStride;
        // column 0: 4 x0 - 5 x2 + x4 of each row
        InputLine(RowFirst(d0, four, minusFive), RowFirst(d1, four, minusFive), RowFirst(d2, four, minusFive), RowFirst(d3, four, minusFive),
            RowFirst(d4, four, minusFive), RowFirst(d5, four, minusFive), v, p6);
        // columns 1 and 2: a + b and a - b, a = x4 - 4 x2, b = x3 - 4 x1
        RowSecond(d0, minusFour, out var s0, out var t0); RowSecond(d1, minusFour, out var s1, out var t1);
        RowSecond(d2, minusFour, out var s2, out var t2); RowSecond(d3, minusFour, out var s3, out var t3);
        RowSecond(d4, minusFour, out var s4, out var t4); RowSecond(d5, minusFour, out var s5, out var t5);
        InputLine(s0, s1, s2, s3, s4, s5, v + posStride, p6);
        InputLine(t0, t1, t2, t3, t4, t5, v + 2 * posStride, p6);
        // columns 3 and 4: c - 2 e and c + 2 e, c = x4 - x2, e = x1 - x3
        RowFourth(d0, two, out s0, out t0); RowFourth(d1, two, out s1, out t1); RowFourth(d2, two, out s2, out t2);
        RowFourth(d3, two, out s3, out t3); RowFourth(d4, two, out s4, out t4); RowFourth(d5, two, out s5, out t5);
        InputLine(s0, s1, s2, s3, s4, s5, v + 3 * posStride, p6);
        InputLine(t0, t1, t2, t3, t4, t5, v + 4 * posStride, p6);
        // column 5: 4 x1 - 5 x3 + x5
        InputLine(RowLast(d0, four, minusFive), RowLast(d1, four, minusFive), RowLast(d2, four, minusFive), RowLast(d3, four, minusFive),
            RowLast(d4, four, minusFive), RowLast(d5, four, minusFive), v + 5 * posStride, p6);
    }

    // One row x (16-channel pixels x0..x5 at x, x + L, ...) of the patch: B^T x's entries, as InputLine computes them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RowFirst(float* x, Vector512<float> four, Vector512<float> minusFive) =>
        Vector512.FusedMultiplyAdd(four, Vector512.Load(x), Vector512.FusedMultiplyAdd(minusFive, Vector512.Load(x + 2 * L), Vector512.Load(x + 4 * L)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowSecond(float* x, Vector512<float> minusFour, out Vector512<float> sum, out Vector512<float> difference)
    {
        Vector512<float> x1 = Vector512.Load(x + L), x2 = Vector512.Load(x + 2 * L), x3 = Vector512.Load(x + 3 * L), x4 = Vector512.Load(x + 4 * L);
        Vector512<float> a = Vector512.FusedMultiplyAdd(minusFour, x2, x4), b = Vector512.FusedMultiplyAdd(minusFour, x1, x3);
        sum = a + b;
        difference = a - b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowFourth(float* x, Vector512<float> two, out Vector512<float> minus, out Vector512<float> plus)
    {
        Vector512<float> x1 = Vector512.Load(x + L), x2 = Vector512.Load(x + 2 * L), x3 = Vector512.Load(x + 3 * L), x4 = Vector512.Load(x + 4 * L);
        Vector512<float> c = x4 - x2, e = x1 - x3;
        minus = Vector512.FusedMultiplyAdd(-two, e, c);
        plus = Vector512.FusedMultiplyAdd(two, e, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RowLast(float* x, Vector512<float> four, Vector512<float> minusFive) =>
        Vector512.FusedMultiplyAdd(four, Vector512.Load(x + L), Vector512.FusedMultiplyAdd(minusFive, Vector512.Load(x + 3 * L), Vector512.Load(x + 5 * L)));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void InputTile256(float* d, int rowStride, float* v, long posStride, float* scratch)
    {
        for (int i = 0; i < 6; i++, d += rowStride)
        {
            InputLine(Vector256.Load(d), Vector256.Load(d + L), Vector256.Load(d + 2 * L), Vector256.Load(d + 3 * L),
                Vector256.Load(d + 4 * L), Vector256.Load(d + 5 * L), scratch + i * 6 * L, L);
        }
        for (int j = 0; j < 6; j++)
        {
            float* s = scratch + j * L;
            InputLine(Vector256.Load(s), Vector256.Load(s + 6 * L), Vector256.Load(s + 12 * L), Vector256.Load(s + 18 * L),
                Vector256.Load(s + 24 * L), Vector256.Load(s + 30 * L), v + j * posStride, 6 * posStride);
        }
    }

    // B^T (d0..d5), stored at o, o + stride, ... o + 5 * stride:
    // [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputLine(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3,
        Vector512<float> d4, Vector512<float> d5, float* o, long stride)
    {
        Vector512<float> four = Vector512.Create(4f), minusFour = Vector512.Create(-4f), minusFive = Vector512.Create(-5f), two = Vector512.Create(2f);
        Vector512<float> a = Vector512.FusedMultiplyAdd(minusFour, d2, d4), b = Vector512.FusedMultiplyAdd(minusFour, d1, d3);
        Vector512<float> c = d4 - d2, e = d1 - d3;
        Vector512.FusedMultiplyAdd(four, d0, Vector512.FusedMultiplyAdd(minusFive, d2, d4)).Store(o);
        (a + b).Store(o + stride);
        (a - b).Store(o + 2 * stride);
        Vector512.FusedMultiplyAdd(-two, e, c).Store(o + 3 * stride);
        Vector512.FusedMultiplyAdd(two, e, c).Store(o + 4 * stride);
        Vector512.FusedMultiplyAdd(four, d1, Vector512.FusedMultiplyAdd(minusFive, d3, d5)).Store(o + 5 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputLine(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3,
        Vector256<float> d4, Vector256<float> d5, float* o, long stride)
    {
        Vector256<float> four = Vector256.Create(4f), minusFour = Vector256.Create(-4f), minusFive = Vector256.Create(-5f), two = Vector256.Create(2f);
        Vector256<float> a = Vector256.FusedMultiplyAdd(minusFour, d2, d4), b = Vector256.FusedMultiplyAdd(minusFour, d1, d3);
        Vector256<float> c = d4 - d2, e = d1 - d3;
        Vector256.FusedMultiplyAdd(four, d0, Vector256.FusedMultiplyAdd(minusFive, d2, d4)).Store(o);
        (a + b).Store(o + stride);
        (a - b).Store(o + 2 * stride);
        Vector256.FusedMultiplyAdd(-two, e, c).Store(o + 3 * stride);
        Vector256.FusedMultiplyAdd(two, e, c).Store(o + 4 * stride);
        Vector256.FusedMultiplyAdd(four, d1, Vector256.FusedMultiplyAdd(minusFive, d3, d5)).Store(o + 5 * stride);
    }

    // m: position pos's 16 channels at m + pos * posStride; pixels: the 4x4 tile's (pixel, 16 channels) rows, row r from
    // pixels + r * rowStride, overwritten with A^T M A + bias, then max(., 0) with ReluForward's bits when relu.
    // The 24 row sums stay in registers between the two passes (through a scratch buffer, the tile's 40 stores made it
    // store-bound); the same operations in the same order, so the same bits. `scratch` is not used.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTile512(float* m, long posStride, float* bias, bool relu, float* scratch, float* pixels, int rowStride)
    {
        long p6 = 6 * posStride;
        OutputRow(m, posStride, out var r00, out var r01, out var r02, out var r03);
        OutputRow(m + p6, posStride, out var r10, out var r11, out var r12, out var r13);
        OutputRow(m + 2 * p6, posStride, out var r20, out var r21, out var r22, out var r23);
        OutputRow(m + 3 * p6, posStride, out var r30, out var r31, out var r32, out var r33);
        OutputRow(m + 4 * p6, posStride, out var r40, out var r41, out var r42, out var r43);
        OutputRow(m + 5 * p6, posStride, out var r50, out var r51, out var r52, out var r53);
        Vector512<float> b = Vector512.Load(bias);
        OutputColumn(r00, r10, r20, r30, r40, r50, b, relu, pixels, rowStride);
        OutputColumn(r01, r11, r21, r31, r41, r51, b, relu, pixels + L, rowStride);
        OutputColumn(r02, r12, r22, r32, r42, r52, b, relu, pixels + 2 * L, rowStride);
        OutputColumn(r03, r13, r23, r33, r43, r53, b, relu, pixels + 3 * L, rowStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputRow(float* s, long posStride, out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3) =>
        OutputLine(Vector512.Load(s), Vector512.Load(s + posStride), Vector512.Load(s + 2 * posStride), Vector512.Load(s + 3 * posStride),
            Vector512.Load(s + 4 * posStride), Vector512.Load(s + 5 * posStride), out o0, out o1, out o2, out o3);

    // Column q of the tile: its four pixels (rows 0-3), plus the bias, then the ReLU.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn(Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3, Vector512<float> t4,
        Vector512<float> t5, Vector512<float> b, bool relu, float* pixels, int rowStride)
    {
        OutputLine(t0, t1, t2, t3, t4, t5, out var o0, out var o1, out var o2, out var o3);
        Finish(o0 + b, relu).Store(pixels);
        Finish(o1 + b, relu).Store(pixels + rowStride);
        Finish(o2 + b, relu).Store(pixels + 2 * rowStride);
        Finish(o3 + b, relu).Store(pixels + 3 * rowStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTile256(float* m, long posStride, float* bias, bool relu, float* scratch, float* pixels, int rowStride)
    {
        for (int a = 0; a < 6; a++)
        {
            float* s = m + 6 * a * posStride;
            OutputLine(Vector256.Load(s), Vector256.Load(s + posStride), Vector256.Load(s + 2 * posStride), Vector256.Load(s + 3 * posStride),
                Vector256.Load(s + 4 * posStride), Vector256.Load(s + 5 * posStride), out var o0, out var o1, out var o2, out var o3);
            o0.Store(scratch + (a * 4) * L); o1.Store(scratch + (a * 4 + 1) * L); o2.Store(scratch + (a * 4 + 2) * L); o3.Store(scratch + (a * 4 + 3) * L);
        }
        Vector256<float> b = Vector256.Load(bias);
        for (int q = 0; q < 4; q++)
        {
            float* s = scratch + q * L;
            OutputLine(Vector256.Load(s), Vector256.Load(s + 4 * L), Vector256.Load(s + 8 * L), Vector256.Load(s + 12 * L),
                Vector256.Load(s + 16 * L), Vector256.Load(s + 20 * L), out var o0, out var o1, out var o2, out var o3);
            Finish(o0 + b, relu).Store(pixels + q * L);
            Finish(o1 + b, relu).Store(pixels + rowStride + q * L);
            Finish(o2 + b, relu).Store(pixels + 2 * rowStride + q * L);
            Finish(o3 + b, relu).Store(pixels + 3 * rowStride + q * L);
        }
    }

    // A^T (m0..m5): [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputLine(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4,
        Vector512<float> m5, out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3)
    {
        Vector512<float> s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        o0 = m0 + s12 + s34;
        o1 = Vector512.FusedMultiplyAdd(Vector512.Create(2f), d34, d12);
        o2 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), s34, s12);
        o3 = Vector512.FusedMultiplyAdd(Vector512.Create(8f), d34, d12) + m5;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputLine(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4,
        Vector256<float> m5, out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3)
    {
        Vector256<float> s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        o0 = m0 + s12 + s34;
        o1 = Vector256.FusedMultiplyAdd(Vector256.Create(2f), d34, d12);
        o2 = Vector256.FusedMultiplyAdd(Vector256.Create(4f), s34, s12);
        o3 = Vector256.FusedMultiplyAdd(Vector256.Create(8f), d34, d12) + m5;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Finish(Vector512<float> y, bool relu) =>
        relu ? Vector512.ConditionalSelect(Vector512.LessThanOrEqual(y, Vector512<float>.Zero), Vector512<float>.Zero, y) : y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Finish(Vector256<float> y, bool relu) =>
        relu ? Vector256.ConditionalSelect(Vector256.LessThanOrEqual(y, Vector256<float>.Zero), Vector256<float>.Zero, y) : y;
}
