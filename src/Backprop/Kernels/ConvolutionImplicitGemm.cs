using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Convolution forward as a matrix product whose column panels are packed straight from the image
/// (implicit im2col): y_n (K, OH*OW) = w (K, C*KH*KW) · col_n, but col_n is never written out. The
/// weights are packed once per call; each unit of work (one image, one panel of NR output pixels)
/// packs a depth block of its columns from the image into a cache-resident panel, runs the GEMM
/// micro-kernels over all K rows, and writes the output plane in place: no column buffer, no
/// scatter, and half the memory traffic of im2col + packing. (Stride-1 convolutions on AVX-512 and AVX2
/// skip even that packing: <see cref="ConvolutionDirect"/> runs them.) Units are split over threads with a
/// fixed partition and each output element is computed the same way in any unit split, so results
/// are identical for any <see cref="KernelThreads.Count"/>. Backward-data runs the same way in
/// reverse: per image and panel of output pixels, a cache-resident panel of column gradients
/// (W^T · dY) is folded straight into dx. Groups of 1 only (the caller checks).
/// </summary>
internal static unsafe class ConvolutionImplicitGemm
{
    // x: (N, C, H, W); weight: (K, C, KH, KW); bias: (K) or null; y: (N, K, OH, OW) overwritten
    public static void Forward(in Conv2dGeometry g, float* x, float* weight, float* bias, float* y, bool relu = false)
    {
        int width = SimdWidth.Max;
        (int mr, int nr) = GemmMicroKernels.TileFor(width);
        int k = g.OutChannels, depth = g.InChannels * g.KernelHeight * g.KernelWidth, ohw = g.OutHeight * g.OutWidth;
        if (GemmMicroKernels.PrefersTall(width, k)) mr = GemmMicroKernels.TallMr;   // e.g. 20 or 50 channels: no padded rows
        int rowsPadded = (k + mr - 1) / mr * mr;
        int panels = (ohw + nr - 1) / nr;
        float[] packedWeights = ArrayPool<float>.Shared.Rent(rowsPadded * depth + 16);
        int[] offsets = ArrayPool<int>.Shared.Rent(3 * depth);
        try
        {
            fixed (float* pw = packedWeights)
            fixed (int* po = offsets)
            {
                float* packed = Align64(pw);
                PackBlocks(false, weight, depth, k, depth, mr, packed);   // w (K, depth)
                DepthOffsets(g, po);
                Conv2dGeometry geo = g;
                nint ix = (nint)x, ib = (nint)bias, iy = (nint)y, ipk = (nint)packed, ipo = (nint)po;
                KernelThreads.For(g.Batch * panels, (s, e) =>
                    Units(geo, width, mr, nr, rowsPadded, panels, s, e, (float*)ix, (float*)ipk, (int*)ipo, (float*)ib, (float*)iy, relu));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedWeights);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    // dy: (N, K, OH, OW); weight: (K, C, KH, KW); dx: (N, C, H, W) overwritten
    public static void BackwardData(in Conv2dGeometry g, float* dy, float* weight, float* dx)
    {
        int width = SimdWidth.Max;
        (int mr, int nr) = GemmMicroKernels.TileFor(width);
        int k = g.OutChannels, depth = g.InChannels * g.KernelHeight * g.KernelWidth;
        if (GemmMicroKernels.PrefersTall(width, depth)) mr = GemmMicroKernels.TallMr;
        int depthPadded = (depth + mr - 1) / mr * mr;
        float[] packedWeights = ArrayPool<float>.Shared.Rent(depthPadded * k + 16);
        int[] offsets = ArrayPool<int>.Shared.Rent(3 * depth);
        try
        {
            fixed (float* pw = packedWeights)
            fixed (int* po = offsets)
            {
                float* packed = Align64(pw);
                PackBlocks(true, weight, depth, depth, k, mr, packed);    // W^T (depth, K)
                DepthOffsets(g, po);
                Conv2dGeometry geo = g;
                nint idy = (nint)dy, idx = (nint)dx, ipk = (nint)packed, ipo = (nint)po;
                // Panels of one image add into overlapping parts of its dx: threads split images only.
                KernelThreads.For(g.Batch, (s, e) =>
                    BackwardDataImages(geo, width, mr, nr, depthPadded, s, e, (float*)idy, (float*)ipk, (int*)ipo, (float*)idx));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedWeights);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    private const int FoldPanels = 4;

    private static void BackwardDataImages(Conv2dGeometry g, int width, int mr, int nr, int depthPadded, int n0, int n1,
        float* dy, float* packedWeights, int* offsets, float* dx)
    {
        int k = g.OutChannels, depth = g.InChannels * g.KernelHeight * g.KernelWidth, ohw = g.OutHeight * g.OutWidth;
        long imageLength = (long)g.InChannels * g.InHeight * g.InWidth;
        // The AVX-512 fold sums whole kernel rows in registers: it folds one micro-kernel panel of pixels at a
        // time, a group of depth rows at a time (whole kernel rows, whole mr-row tiles), so the column
        // gradients and dy's panel stay in L1. The general fold adds row by row: a unit of several panels
        // (longer runs) over all depth rows at once.
        bool wideFold = ColumnFold512.Applies(g);
        int unitPanels = wideFold ? 1 : FoldPanels, unit = unitPanels * nr;
        int group = wideFold ? GroupRows(mr, g.KernelWidth) : depth;
        int blocks = (k + Gemm.Kc - 1) / Gemm.Kc;
        float[] panelBuffer = ArrayPool<float>.Shared.Rent(blocks * unitPanels * Math.Min(Gemm.Kc, k) * nr + 16);
        float[] columnBuffer = ArrayPool<float>.Shared.Rent(group * unit + 32);
        Span<int> runs = stackalloc int[4 * (unit + 2)];
        try
        {
            fixed (float* pb = panelBuffer, pcol = columnBuffer)
            {
                float* panels = Align64(pb), columns = Align64(pcol);
                int panelLength = Math.Min(Gemm.Kc, k) * nr;
                for (int n = n0; n < n1; n++)
                {
                    float* dyn = dy + (long)n * k * ohw;
                    float* dxn = dx + n * imageLength;
                    new Span<float>(dxn, (int)imageLength).Clear();
                    for (int j0 = 0; j0 < ohw; j0 += unit)
                    {
                        int cols = Math.Min(unit, ohw - j0);
                        // dy_n[:, j0 .. j0+cols] packed once: panel (block b, columns jr) at (b*unitPanels + jr/nr) * panelLength
                        for (int kc0 = 0, b = 0; kc0 < k; kc0 += Gemm.Kc, b++)
                            for (int jr = 0; jr < cols; jr += nr)
                                GemmPacking.PackB(false, dyn, ohw, kc0, Math.Min(Gemm.Kc, k - kc0), j0 + jr, Math.Min(nr, cols - jr), nr,
                                    panels + (long)(b * unitPanels + jr / nr) * panelLength);
                        int runCount = Runs(g, j0, cols, runs);
                        for (int p0 = 0; p0 < depth; p0 += group)
                        {
                            int groupRows = Math.Min(group, depth - p0);
                            // columns (groupRows, cols) = W^T[p0 .. p0+groupRows, :] · dy_n[:, j0 .. j0+cols]
                            for (int jr = 0; jr < cols; jr += nr)
                            {
                                int panelCols = Math.Min(nr, cols - jr);
                                for (int kc0 = 0, b = 0; kc0 < k; kc0 += Gemm.Kc, b++)
                                {
                                    int kc = Math.Min(Gemm.Kc, k - kc0);
                                    float* panel = panels + (long)(b * unitPanels + jr / nr) * panelLength;
                                    float beta = kc0 == 0 ? 0f : 1f;
                                    float* block = packedWeights + (long)depthPadded * kc0;
                                    for (int ir = 0; ir < groupRows; ir += mr)
                                    {
                                        int rows = Math.Min(mr, groupRows - ir);
                                        float* a = block + (long)(p0 + ir) * kc, tile = columns + (long)ir * unit + jr;
                                        if (mr == GemmMicroKernels.TallMr) GemmMicroKernels.Kernel512x10(kc, a, panel, tile, unit, rows, panelCols, 1f, beta);
                                        else GemmMicroKernels.Run(width, kc, a, panel, tile, unit, rows, panelCols, 1f, beta);
                                    }
                                }
                            }
                            if (wideFold) ColumnFold512.Fold(g, dxn, p0 / g.KernelWidth, groupRows / g.KernelWidth, runs[..(4 * runCount)], unit, columns);
                            else FoldColumns(width, g, dxn, offsets + 3 * p0, groupRows, runs[..(4 * runCount)], unit, columns);
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(panelBuffer);
            ArrayPool<float>.Shared.Return(columnBuffer);
        }
    }

    // Depth rows per fold group: a multiple of mr and of KW, about 32 rows or more.
    private static int GroupRows(int mr, int kernelWidth)
    {
        int a = mr, b = kernelWidth;
        while (b != 0) (a, b) = (b, a % b);
        int lcm = mr / a * kernelWidth;
        return lcm * Math.Max(1, 32 / lcm);
    }

    /// <summary>
    /// Adds a panel of column gradients back into the image they came from (the reverse of
    /// <see cref="PackColumns"/>): dx[c, ih, iw] += columns[p*ld + jj]; entries outside the image are dropped.
    /// Depth row by depth row, each row's runs in turn: consecutive runs land in different image rows, so
    /// no load waits on the overlapping store before it (depth rows p and p+1 overlap, shifted by one).
    /// </summary>
    // width: SimdWidth.Max; dx: one image (C, H, W), accumulated into; offsets: the depth rows' entries; columns: (rows, ld), the run columns of each row
    internal static void FoldColumns(int width, in Conv2dGeometry g, float* dx, int* offsets, int rows, ReadOnlySpan<int> runs, int ld, float* columns)
    {
        int h = g.InHeight, w = g.InWidth, sw = g.StrideWidth;
        bool padded = g.PadHeight != 0 || g.PadWidth != 0;
        for (int p = 0; p < rows; p++)
        {
            int offset = offsets[3 * p], dh = offsets[3 * p + 1], dw = offsets[3 * p + 2];
            float* row = columns + (long)p * ld;
            for (int r = 0; r < runs.Length; r += 4)
            {
                int jj = runs[r], length = runs[r + 1], ihBase = runs[r + 2], iwBase = runs[r + 3];
                float* src = row + jj;
                // dst[t * sw] is dx[c, ihBase + dh, iwBase + dw + t * sw]
                float* dst = dx + offset + (long)ihBase * w + iwBase;
                int lo = 0, hi = length;
                if (padded)
                {
                    int ih = ihBase + dh, iw0 = iwBase + dw;
                    if ((uint)ih >= (uint)h) continue;
                    (lo, hi) = Im2Col.ValidRange(iw0, sw, w, length);
                }
                if (sw == 1) AddInto(width, src + lo, dst + lo, hi - lo);
                else for (int t = lo; t < hi; t++) dst[t * sw] += src[t];
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void AddInto(int width, float* src, float* dst, int length)
    {
        int t = 0;
        if (SimdWidth.Allows256(width))
            for (; t + 8 <= length; t += 8) Vector256.Store(Vector256.Load(dst + t) + Vector256.Load(src + t), dst + t);
        if (SimdWidth.Allows128(width))
            for (; t + 4 <= length; t += 4) Vector128.Store(Vector128.Load(dst + t) + Vector128.Load(src + t), dst + t);
        for (; t < length; t++) dst[t] += src[t];
    }

    /// <summary>
    /// Packs all of op(A) (rows x reduction) once, as the micro-kernels read it: block p0 (every Kc of the
    /// reduction) holds rows 0..rows of reduction p0..p0+kc in mr-row panels, at dst + paddedRows*p0.
    /// </summary>
    // a: (rows, reduction) with row stride lda, or (reduction, rows) when transA
    internal static void PackBlocks(bool transA, float* a, int lda, int rows, int reduction, int mr, float* dst)
    {
        int paddedRows = (rows + mr - 1) / mr * mr;
        for (int p0 = 0; p0 < reduction; p0 += Gemm.Kc)
            GemmPacking.PackA(transA, a, lda, 0, rows, p0, Math.Min(Gemm.Kc, reduction - p0), mr, dst + (long)paddedRows * p0);
    }

    /// <summary>
    /// For each depth index p = (c*KH + kh)*KW + kw: the offset of (c, kh*dilationH, kw*dilationW) in
    /// an image, and the two dilated kernel offsets (for the bounds checks with padding).
    /// </summary>
    // table: (depth, 3): offset, kh*dilationH, kw*dilationW
    internal static void DepthOffsets(in Conv2dGeometry g, int* table)
    {
        int p = 0, hw = g.InHeight * g.InWidth;
        for (int c = 0; c < g.InChannels; c++)
            for (int kh = 0; kh < g.KernelHeight; kh++)
                for (int kw = 0; kw < g.KernelWidth; kw++, p++)
                {
                    int dh = kh * g.DilationHeight, dw = kw * g.DilationWidth;
                    table[3 * p] = c * hw + dh * g.InWidth + dw;
                    table[3 * p + 1] = dh;
                    table[3 * p + 2] = dw;
                }
    }

    /// <summary>Row kk of the tile (stride ld) = bias[kk] in its first `cols` entries: whole vectors where they fit (a span Fill per row cost as much as a first-layer convolution's arithmetic).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    internal static void FillRows(int width, float* tile, int ld, float* bias, int rows, int cols)
    {
        for (int kk = 0; kk < rows; kk++)
        {
            float* row = tile + (long)kk * ld;
            float value = bias[kk];
            int j = 0;
            if (SimdWidth.Allows512(width))
                for (var v = Vector512.Create(value); j + 16 <= cols; j += 16) v.Store(row + j);
            if (SimdWidth.Allows256(width))
                for (var v = Vector256.Create(value); j + 8 <= cols; j += 8) v.Store(row + j);
            for (; j < cols; j++) row[j] = value;
        }
    }

    /// <summary>Rows 0..rows-1 of the tile (stride ld), first `cols` entries: max(v, 0) in place, with ReluForward's bits.</summary>
    internal static void ReluRows(float* tile, int ld, int rows, int cols)
    {
        if (cols == 32 && SimdWidth.AllowsAvx512F(SimdWidth.Max))
        {
            // A whole panel's rows: two vectors each, inline (a call per 32-float row cost 6% of a stride-2 3x3 forward).
            for (int kk = 0; kk < rows; kk++)
            {
                float* row = tile + (long)kk * ld;
                ConvolutionWinogradTransforms.Finish(Vector512.Load(row), relu: true).Store(row);
                ConvolutionWinogradTransforms.Finish(Vector512.Load(row + 16), relu: true).Store(row + 16);
            }
            return;
        }
        for (int kk = 0; kk < rows; kk++)
        {
            var row = new Span<float>(tile + (long)kk * ld, cols);
            Activations.ReluForward(row, row);
        }
    }

    // Output pixels q .. q+15 (q a multiple of 8) as two runs of 8 in an image plane: where the first starts,
    // and how far on the second starts (8 on, or at the next input row's start where the output row ends).
    internal static (int Start, int Second) RunsOf16(in Conv2dGeometry g, int q)
    {
        int ow = g.OutWidth, w = g.InWidth, row = q / ow, col = q % ow;
        return (row * w + col, col + 16 <= ow ? 8 : w - col);
    }

    // Units [s, e): unit u is image u / panels, output pixels [(u % panels) * nr, +nr).
    private static void Units(Conv2dGeometry g, int width, int mr, int nr, int rowsPadded, int panels, int s, int e,
        float* x, float* packedWeights, int* offsets, float* bias, float* y, bool relu)
    {
        int k = g.OutChannels, depth = g.InChannels * g.KernelHeight * g.KernelWidth, ohw = g.OutHeight * g.OutWidth;
        long imageLength = (long)g.InChannels * g.InHeight * g.InWidth;
        int kcMax = Math.Min(Gemm.Kc, depth);
        float[] panelBuffer = ArrayPool<float>.Shared.Rent(kcMax * nr + 16);
        // Runs of the panel's pixels that lie in one output row: (first column, length, ih base, iw base).
        Span<int> runs = stackalloc int[4 * (nr + 2)];
        try
        {
            fixed (float* pb = panelBuffer)
            {
                float* panel = Align64(pb);
                for (int u = s; u < e; u++)
                {
                    int n = u / panels, j0 = u % panels * nr, cols = Math.Min(nr, ohw - j0);
                    float* xn = x + n * imageLength;
                    float* yn = y + (long)n * k * ohw + j0;
                    if (bias is not null) FillRows(width, yn, ohw, bias, k, cols);
                    int runCount = Runs(g, j0, cols, runs);
                    for (int pc = 0; pc < depth; pc += Gemm.Kc)
                    {
                        int kc = Math.Min(Gemm.Kc, depth - pc);
                        PackColumns(width, g, xn, offsets, pc, kc, runs[..(4 * runCount)], cols, nr, panel);
                        float beta = pc == 0 && bias is null ? 0f : 1f;
                        float* block = packedWeights + (long)rowsPadded * pc;
                        for (int ir = 0; ir < k; ir += mr)
                        {
                            int rows = Math.Min(mr, k - ir);
                            float* tile = yn + (long)ir * ohw;
                            float* a = block + (long)ir * kc;
                            if (mr == GemmMicroKernels.TallMr) GemmMicroKernels.Kernel512x10(kc, a, panel, tile, ohw, rows, cols, 1f, beta);
                            else GemmMicroKernels.Run(width, kc, a, panel, tile, ohw, rows, cols, 1f, beta);
                        }
                    }
                    if (relu) ReluRows(yn, ohw, k, cols);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(panelBuffer);
        }
    }

    /// <summary>Splits output pixels [j0, j0+cols) into runs within one output row; returns the run count.</summary>
    // runs: (count, 4): first column in the panel, length, oh*strideH - padH, ow*strideW - padW of the run's first pixel
    private static int Runs(in Conv2dGeometry g, int j0, int cols, Span<int> runs)
    {
        int count = 0, ow = g.OutWidth;
        for (int jj = 0; jj < cols;)
        {
            int pixel = j0 + jj, oh = pixel / ow, first = pixel % ow;
            int length = Math.Min(ow - first, cols - jj);
            runs[4 * count] = jj;
            runs[4 * count + 1] = length;
            runs[4 * count + 2] = oh * g.StrideHeight - g.PadHeight;
            runs[4 * count + 3] = first * g.StrideWidth - g.PadWidth;
            count++;
            jj += length;
        }
        return count;
    }

    /// <summary>
    /// Packs rows pc..pc+kc of the image's column matrix, for the panel's pixels, as the micro-kernels
    /// read B: panel[p*nr + jj]; zeros outside the image and in columns cols..nr. Run by run, all depth
    /// rows of a run in turn, so the run's shape is worked out once (most runs are whole output rows).
    /// </summary>
    // width: SimdWidth.Max; x: one image (C, H, W); panel: (kc, nr) overwritten
    internal static void PackColumns(int width, in Conv2dGeometry g, float* x, int* offsets, int pc, int kc, ReadOnlySpan<int> runs, int cols, int nr, float* panel)
    {
        int h = g.InHeight, w = g.InWidth, sw = g.StrideWidth;
        bool padded = g.PadHeight != 0 || g.PadWidth != 0;
        int* o = offsets + 3 * pc;
        for (int r = 0; r < runs.Length; r += 4)
        {
            int jj = runs[r], length = runs[r + 1], ihBase = runs[r + 2], iwBase = runs[r + 3];
            // src + offset[p] + t*sw is x[c, ihBase + dh, iwBase + dw + t*sw]
            float* src = x + (long)ihBase * w + iwBase;
            float* dst = panel + jj;
            if (!padded && sw == 1)
            {
                if (length == 8 && SimdWidth.Allows256(width))
                    for (int p = 0; p < kc; p++) Vector256.Store(Vector256.Load(src + o[3 * p]), dst + (long)p * nr);
                else
                    for (int p = 0; p < kc; p++) Copy(width, src + o[3 * p], dst + (long)p * nr, length);
                continue;
            }
            for (int p = 0; p < kc; p++)
            {
                int offset = o[3 * p], dh = o[3 * p + 1], dw = o[3 * p + 2];
                float* s = src + offset, d = dst + (long)p * nr;
                if (!padded)
                {
                    for (int t = 0; t < length; t++) d[t] = s[t * sw];
                    continue;
                }
                int ih = ihBase + dh, iw0 = iwBase + dw;
                // t is inside the image when 0 <= iw0 + t*sw < w
                var (lo, hi) = (uint)ih < (uint)h ? Im2Col.ValidRange(iw0, sw, w, length) : (0, 0);
                if (lo >= hi)
                {
                    new Span<float>(d, length).Clear();
                    continue;
                }
                for (int t = 0; t < lo; t++) d[t] = 0f;
                if (sw == 1) Copy(width, s + lo, d + lo, hi - lo);
                else for (int t = lo; t < hi; t++) d[t] = s[t * sw];
                for (int t = hi; t < length; t++) d[t] = 0f;
            }
        }
        if (cols < nr)
            for (int p = 0; p < kc; p++) new Span<float>(panel + (long)p * nr + cols, nr - cols).Clear();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Copy(int width, float* src, float* dst, int length)
    {
        int t = 0;
        if (SimdWidth.Allows256(width))
            for (; t + 8 <= length; t += 8) Vector256.Store(Vector256.Load(src + t), dst + t);
        if (SimdWidth.Allows128(width))
            for (; t + 4 <= length; t += 4) Vector128.Store(Vector128.Load(src + t), dst + t);
        for (; t < length; t++) dst[t] = src[t];
    }

    internal static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);
}
