using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Backward-data of a stride-2 convolution (AVX-512 or AVX2, groups 1, dilation 1) as four stride-1 direct convolutions,
/// one per phase of dx, with no column buffer. Padded row Y = ih + pad of dx collects taps kh = Y mod 2 + 2m from dy row
/// (Y - kh) / 2; so phase (a, b) of dx (padded rows a + 2i, columns b + 2j) is dy correlated with the sub-kernel
/// w[:, :, a::2, b::2] turned 180 degrees, channels swapped. Each image's dy goes into zero-bordered copies, one per
/// column shift of the sub-kernels (rows of Wq floats, Wq the phases' width, zero columns where the shift leaves them);
/// a phase's outputs are computed on a grid Wq wide (a column past one phase's width computed and dropped), in
/// 32-pixel (AVX2: 16) panels by the forward's <see cref="DirectMicroKernels"/> (AVX2: 6-channel tiles, the last 1-4
/// channels by <see cref="DirectMicroKernel256x4"/>) into a
/// buffer per image, then each dx row is woven from two phase rows (AVX-512: two permutes per 32 floats; AVX2: two unpacks and two lane swaps per 16). The next image's dy and this image's dx are prefetched into L2 while the phases compute. Threads split the images; every dx element is one phase's sum over its taps in a
/// fixed order: the same bits for any <see cref="KernelThreads.Count"/>.
/// </summary>
internal static unsafe class ConvolutionPhaseBackwardData
{
    /// <summary>True when <see cref="BackwardData"/> runs this convolution's backward-data.</summary>
    /// <remarks>
    /// Not for 1x1 (and 1-wide) kernels: three of the four phases have no taps, and ResNet's 1x1 stride-2 shortcuts took
    /// 1.3-1.5x the CPU time of the implicit GEMM this way (their zeros written one by one).
    /// </remarks>
    public static bool Applies(in Conv2dGeometry g) =>
        ConvolutionDirect.Enabled && SimdWidth.Max >= 256 && g.Groups == 1 && g.Batch > 1 && g.StrideHeight == 2 && g.StrideWidth == 2
        && g.DilationHeight == 1 && g.DilationWidth == 1 && g.KernelHeight >= 2 && g.KernelWidth >= 2;

    /// <summary>One axis: the border of the dy copy, and for phases 0 and 1 their taps and their first and last index.</summary>
    private readonly record struct Axis(int Border, int Taps0, int Taps1, int First0, int First1, int Last0, int Last1, int Padded)
    {
        public static Axis Of(int input, int output, int kernel, int pad)
        {
            // Phase a: padded positions a + 2i with input position a + 2i - pad in [0, input).
            int first0 = (pad + 1) / 2, first1 = pad / 2, last0 = (input - 1 + pad) / 2, last1 = (input - 2 + pad) / 2;
            if (input - 2 + pad < 0) last1 = -1;
            int border = (kernel - 1) / 2;
            return new Axis(border, (kernel + 1) / 2, kernel / 2, first0, first1, last0, last1, Math.Max(output, last0 + 1) + border);
        }

        public int Taps(int a) => a == 0 ? Taps0 : Taps1;
        public int First(int a) => a == 0 ? First0 : First1;
        public int Last(int a) => a == 0 ? Last0 : Last1;
    }

    // dy: (N, K, OH, OW); weight: (K, C, KH, KW); dx: (N, C, H, W) overwritten. Needs Applies.
    public static void BackwardData(in Conv2dGeometry g, float* dy, float* weight, float* dx)
    {
        int width = SimdWidth.Max, k = g.OutChannels, c = g.InChannels, kh = g.KernelHeight, kw = g.KernelWidth;
        int mr = DirectMicroKernels.RowsFor(width, c), rowsPadded = (c + mr - 1) / mr * mr;
        Axis rows = Axis.Of(g.InHeight, g.OutHeight, kh, g.PadHeight), cols = Axis.Of(g.InWidth, g.OutWidth, kw, g.PadWidth);
        // Columns: one copy of dy per column shift, rows exactly as wide as the wider phase (no border columns), each
        // phase's grid starting at its first column: ResNet's 8-wide phases filled 64 of 96 panel pixels on 10-wide rows.
        int wq = ShiftedWidth(cols), copyStride = k * rows.Padded * wq, lowest = LowestShift(cols);
        // Per phase: its depth K*taps, packed weights and depth offsets.
        int[] depths = new int[4];
        long packedTotal = 0, offsetTotal = 0;
        for (int ph = 0; ph < 4; ph++)
        {
            depths[ph] = k * rows.Taps(ph >> 1) * cols.Taps(ph & 1);
            packedTotal += (long)rowsPadded * depths[ph] + 16;
            offsetTotal += 3L * depths[ph];
        }
        float[] packed = ArrayPool<float>.Shared.Rent((int)packedTotal + 16);
        float[] sub = ArrayPool<float>.Shared.Rent(c * k * ((kh + 1) / 2) * ((kw + 1) / 2));
        int[] offsets = ArrayPool<int>.Shared.Rent((int)offsetTotal + 1);
        try
        {
            fixed (float* pp = packed, ps = sub)
            fixed (int* po = offsets)
            {
                float* dst = ConvolutionImplicitGemm.Align64(pp);
                int* table = po;
                var starts = new nint[8];
                for (int ph = 0; ph < 4; ph++)
                {
                    int a = ph >> 1, b = ph & 1, ma = rows.Taps(a), mb = cols.Taps(b), depth = depths[ph];
                    // sub[cc, (kk*ma + m)*mb + n] = w[kk, cc, a + 2(ma-1-m), b + 2(mb-1-n)]; its rows read dy at the matching shifts.
                    for (int cc = 0; cc < c; cc++)
                        for (int kk = 0, p = 0; kk < k; kk++)
                            for (int m = 0; m < ma; m++)
                                for (int n = 0; n < mb; n++, p++)
                                    ps[(long)cc * depth + p] = weight[(((long)kk * c + cc) * kh + a + 2 * (ma - 1 - m)) * kw + b + 2 * (mb - 1 - n)];
                    for (int kk = 0, p = 0; kk < k; kk++)
                        for (int m = 0; m < ma; m++)
                            for (int n = 0; n < mb; n++, p++)
                                table[3 * p] = (cols.First(b) - (mb - 1 - n) - lowest) * copyStride
                                    + (kk * rows.Padded + rows.Border - (ma - 1) + m) * wq;
                    ConvolutionImplicitGemm.PackBlocks(false, ps, depth, c, depth, mr, dst);
                    starts[2 * ph] = (nint)dst;
                    starts[2 * ph + 1] = (nint)table;
                    dst = ConvolutionImplicitGemm.Align64(dst + (long)rowsPadded * depth);
                    table += 3 * depth;
                }
                Conv2dGeometry geo = g;
                nint idy = (nint)dy, idx = (nint)dx;
                KernelThreads.For(g.Batch, (s, e) => Images(geo, rows, cols, depths, starts, mr, rowsPadded, s, e, (float*)idy, (float*)idx));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
            ArrayPool<float>.Shared.Return(sub);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    private static void Images(Conv2dGeometry g, Axis rows, Axis cols, int[] depths, nint[] starts, int mr, int rowsPadded, int s, int e,
        float* dy, float* dx)
    {
        int width = SimdWidth.Max, nr = DirectMicroKernels.PanelFor(width), half = nr / 2;
        int k = g.OutChannels, c = g.InChannels, h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth;
        int hp = rows.Padded, wp = ShiftedWidth(cols), lowest = LowestShift(cols), shifts = Math.Max(cols.First0, cols.First1) - lowest + 1;
        // Copy q holds dy shifted left by q + lowest columns; its tail: the last panel reads up to a panel and a row past the last row.
        int copyStride = k * hp * wp, copyLength = shifts * copyStride + wp + 2 * nr;
        // Phase (a, b) of channel cc lies at phases + start[ph] + cc*stride[ph], its grid rows i0..i1 rounded up to whole
        // panels (a panel's columns past the phase's are computed and dropped there).
        Span<int> stride = stackalloc int[4], start = stackalloc int[5];
        start[0] = 0;
        for (int ph = 0; ph < 4; ph++)
        {
            int grid = Math.Max(0, rows.Last(ph >> 1) - rows.First(ph >> 1) + 1) * wp;
            stride[ph] = (grid + nr - 1) / nr * nr;
            start[ph + 1] = start[ph] + c * stride[ph];
        }
        float[] copy = ArrayPool<float>.Shared.Rent(copyLength);
        float[] phases = ArrayPool<float>.Shared.Rent(start[4] + 2 * nr);   // the interleave's last vectors read past the end
        try
        {
            fixed (float* pcopy = copy, pphases = phases)
            {
                new Span<float>(pcopy, copyLength).Clear();   // borders and tail stay zero; images overwrite the inside
                new Span<float>(pphases + start[4], 2 * nr).Clear();
                long dyImage = (long)k * oh * ow, dxImage = (long)c * h * w;
                int panels = (stride[0] + stride[1] + stride[2] + stride[3]) / nr, panel = 0;
                for (int n = s; n < e; n++, panel = 0)
                {
                    float* src = dy + n * dyImage;
                    // While the phases compute, pull the next image's dy and this image's dx into L2 a slice per panel:
                    // the copies and the weave otherwise wait on memory (about a third of the CPU time at 16->32, 32x32).
                    float* nextDy = n + 1 < e ? src + dyImage : null, image = dx + n * dxImage;
                    for (int q = 0; q < shifts; q++)
                    {
                        // copy q's column j holds dy's column j + sigma (sigma = q + lowest) where that lies in dy; the others stay zero
                        int sigma = q + lowest, j0 = Math.Max(0, -sigma), count = Math.Min(wp, ow - sigma) - j0;
                        if (count <= 0) continue;
                        for (int kk = 0; kk < k; kk++)
                            for (int r = 0; r < oh; r++)
                                ConvolutionWeightGradient.Copy(width, src + ((long)kk * oh + r) * ow + j0 + sigma,
                                    pcopy + q * (long)copyStride + ((long)kk * hp + r + rows.Border) * wp + j0, count);
                    }
                    for (int ph = 0; ph < 4; ph++)
                    {
                        int a = ph >> 1, depth = depths[ph];   // every phase has taps: kernels of 2 or more
                        float* packed = (float*)starts[2 * ph];
                        int* offsets = (int*)starts[2 * ph + 1];
                        for (int f = 0, grid0 = rows.First(a) * wp; f < stride[ph]; f += nr, panel++)
                        {
                            if (nextDy != null) PrefetchSlice(nextDy, dyImage, panel, panels);
                            PrefetchSlice(image, dxImage, panel, panels);
                            for (int pc = 0; pc < depth; pc += Gemm.Kc)
                            {
                                int kc = Math.Min(Gemm.Kc, depth - pc);
                                float* block = packed + (long)rowsPadded * pc;
                                for (int ir = 0; ir < c; ir += mr)
                                {
                                    float* pa = block + (long)ir * kc, pt = pphases + start[ph] + (long)ir * stride[ph] + f;
                                    int tileRows = Math.Min(mr, c - ir);
                                    if (width == 512)
                                        DirectMicroKernels.Run(mr, true, kc, pa, pcopy, offsets + 3 * pc, grid0 + f, 0, grid0 + f + half, 0, pt, stride[ph],
                                            tileRows, pc != 0);
                                    else if (tileRows <= 4)   // the last 1-4 channels: a 4-row tile, no zero rows computed
                                        DirectMicroKernel256x4.Run(kc, pa, pcopy, offsets + 3 * pc, grid0 + f, grid0 + f + half, pt, stride[ph], tileRows,
                                            pc != 0);
                                    else
                                        DirectMicroKernels.Kernel256x6(kc, pa, pcopy, offsets + 3 * pc, grid0 + f, grid0 + f + half, pt, stride[ph], tileRows,
                                            pc != 0);
                                }
                            }
                        }
                    }
                    Interleave(g, rows, wp, pphases, start, stride, image);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copy);
            ArrayPool<float>.Shared.Return(phases);
        }
    }

    // Part `part` of `parts` of the floats at p, prefetched into L2 line by line (a hint: no effect on results).
    private static void PrefetchSlice(float* p, long floats, int part, int parts)
    {
        if (!Sse.IsSupported) return;
        long lines = (floats + 15) / 16, from = lines * part / parts, to = lines * (part + 1) / parts;
        for (long l = from; l < to; l++) Sse.Prefetch1(p + 16 * l);
    }

    // The phase grids' width: grid column j of phase b is its column J = First(b) + j (padded column b + 2J).
    private static int ShiftedWidth(Axis cols) => Math.Max(1, Math.Max(cols.Last0 - cols.First0, cols.Last1 - cols.First1) + 1);

    // Tap n of phase b's sub-kernel reads dy column J - (taps - 1) + n = j + First(b) - (taps - 1) + n: the smallest shift.
    private static int LowestShift(Axis cols) => Math.Min(cols.First0 - (cols.Taps0 - 1), cols.First1 - (cols.Taps1 - 1));

    // dx's row ih of channel cc: even columns 2t from one phase's grid row, odd ones from the other's (padded column
    // 2t + pad has phase pad mod 2), two runs of consecutive grid columns woven together.
    private static void Interleave(in Conv2dGeometry g, Axis rows, int wp, float* phases, ReadOnlySpan<int> start,
        ReadOnlySpan<int> stride, float* image)
    {
        int c = g.InChannels, h = g.InHeight, w = g.InWidth, padH = g.PadHeight, padW = g.PadWidth;
        int bEven = padW & 1, bOdd = 1 - bEven, pairs = w / 2;
        bool avx512 = SimdWidth.AllowsAvx512F(SimdWidth.Max), avx = SimdWidth.AllowsAvx(SimdWidth.Max);
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        for (int cc = 0; cc < c; cc++)
            for (int ih = 0; ih < h; ih++)
            {
                int a = (ih + padH) & 1;
                long row = (long)(((ih + padH) >> 1) - rows.First(a)) * wp;
                float* even = phases + start[2 * a + bEven] + (long)cc * stride[2 * a + bEven] + row;   // dx columns 0 and 1 are their phases' first columns
                float* odd = phases + start[2 * a + bOdd] + (long)cc * stride[2 * a + bOdd] + row;
                float* d = image + ((long)cc * h + ih) * w;
                int t = 0;
                if (avx512)
                    for (; t + 16 <= pairs; t += 16)
                    {
                        Vector512<float> e = Vector512.Load(even + t), o = Vector512.Load(odd + t);
                        Avx512F.PermuteVar16x32x2(e, low, o).Store(d + 2 * t);
                        Avx512F.PermuteVar16x32x2(e, high, o).Store(d + 2 * t + 16);
                    }
                if (avx)
                    for (; t + 8 <= pairs; t += 8)
                    {
                        // unpacks weave within 128-bit lanes (pairs 0-1, 4-5 and 2-3, 6-7); the lane swaps put them in order
                        Vector256<float> e = Vector256.Load(even + t), o = Vector256.Load(odd + t);
                        Vector256<float> lo = Avx.UnpackLow(e, o), hi = Avx.UnpackHigh(e, o);
                        Avx.Permute2x128(lo, hi, 0x20).Store(d + 2 * t);
                        Avx.Permute2x128(lo, hi, 0x31).Store(d + 2 * t + 8);
                    }
                for (; t < pairs; t++)
                {
                    d[2 * t] = even[t];
                    d[2 * t + 1] = odd[t];
                }
                if ((w & 1) != 0) d[w - 1] = even[pairs];
            }
    }
}
