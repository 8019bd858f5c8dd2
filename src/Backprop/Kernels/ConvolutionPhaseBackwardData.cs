using System.Buffers;

namespace Backprop.Kernels;

/// <summary>
/// Backward-data of a stride-2 convolution (AVX-512 or AVX2, groups 1, dilation 1) as four stride-1 direct convolutions,
/// one per phase of dx, with no column buffer. Padded row Y = ih + pad of dx collects taps kh = Y mod 2 + 2m from dy row
/// (Y - kh) / 2; so phase (a, b) of dx (padded rows a + 2i, columns b + 2j) is dy correlated with the sub-kernel
/// w[:, :, a::2, b::2] turned 180 degrees, channels swapped. Each image's dy goes into a zero-bordered copy (rows of Wp
/// floats); a phase's outputs are computed on that copy's grid, Wp per row (the columns past the phase's width are
/// computed and dropped), in 32-pixel (AVX2: 16) panels by the forward's <see cref="DirectMicroKernels"/>, then
/// written to their places in dx. Threads split the images; every dx element is one phase's sum over its taps in a
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
                                table[3 * p] = (kk * rows.Padded + rows.Border - (ma - 1) + m) * cols.Padded + cols.Border - (mb - 1) + n;
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
        int hp = rows.Padded, wp = cols.Padded;
        // The copy's tail: the last panel reads up to a panel and a border past the last row.
        int copyLength = k * hp * wp + wp + 2 * nr;
        float[] copy = ArrayPool<float>.Shared.Rent(copyLength);
        float[] scratch = ArrayPool<float>.Shared.Rent(rowsPadded * nr);
        try
        {
            fixed (float* pcopy = copy, tile = scratch)
            {
                new Span<float>(pcopy, copyLength).Clear();   // borders and tail stay zero; images overwrite the inside
                for (int n = s; n < e; n++)
                {
                    float* src = dy + (long)n * k * oh * ow, image = dx + (long)n * c * h * w;
                    for (int kk = 0; kk < k; kk++)
                        for (int r = 0; r < oh; r++)
                            new ReadOnlySpan<float>(src + ((long)kk * oh + r) * ow, ow)
                                .CopyTo(new Span<float>(pcopy + ((long)kk * hp + r + rows.Border) * wp + cols.Border, ow));
                    for (int ph = 0; ph < 4; ph++)
                    {
                        int a = ph >> 1, b = ph & 1, depth = depths[ph];   // every phase has taps: kernels of 2 or more
                        int i0 = rows.First(a), i1 = rows.Last(a), j0 = cols.First(b), j1 = cols.Last(b);
                        if (i1 < i0 || j1 < j0) continue;
                        float* packed = (float*)starts[2 * ph];
                        int* offsets = (int*)starts[2 * ph + 1];
                        for (int f0 = i0 * wp; f0 < (i1 + 1) * wp; f0 += nr)
                        {
                            for (int pc = 0; pc < depth; pc += Gemm.Kc)
                            {
                                int kc = Math.Min(Gemm.Kc, depth - pc);
                                float* block = packed + (long)rowsPadded * pc;
                                for (int ir = 0; ir < c; ir += mr)
                                {
                                    float* pa = block + (long)ir * kc, pt = tile + (long)ir * nr;
                                    int tileRows = Math.Min(mr, c - ir);
                                    if (width == 512)
                                        DirectMicroKernels.Run(mr, true, kc, pa, pcopy, offsets + 3 * pc, f0, 0, f0 + half, 0, pt, nr, tileRows, pc != 0);
                                    else
                                        DirectMicroKernels.Kernel256x6(kc, pa, pcopy, offsets + 3 * pc, f0, f0 + half, pt, nr, tileRows, pc != 0);
                                }
                            }
                            Place(tile, nr, image, c, h, w, wp, a, b, g.PadHeight, g.PadWidth, i0, i1, j0, j1, f0);
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copy);
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    // The panel's pixels f0 .. f0+ld (grid index i*wp + j) that lie in the phase (rows i0..i1, columns j0..j1) go to
    // dx[cc, a + 2i - padH, b + 2j - padW] = tile[cc*ld + f - f0].
    private static void Place(float* tile, int ld, float* image, int c, int h, int w, int wp, int a, int b, int padH, int padW,
        int i0, int i1, int j0, int j1, int f0)
    {
        int count = ld;
        for (int f = f0; f < f0 + count;)
        {
            int i = f / wp, j = f - i * wp, end = Math.Min(f0 + count, (i + 1) * wp);
            if (i > i1) break;
            int from = Math.Max(j, j0), to = Math.Min(end - i * wp - 1, j1);
            if (i >= i0 && from <= to)
            {
                int row = a + 2 * i - padH, col = b + 2 * from - padW;
                for (int cc = 0; cc < c; cc++)
                {
                    float* d = image + ((long)cc * h + row) * w + col, t = tile + (long)cc * ld + (i * wp + from - f0);
                    for (int q = 0; q <= to - from; q++) d[2 * q] = t[q];
                }
            }
            f = end;
        }
    }
}
