using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// The weight gradient of a convolution, dW_g (K/groups, depth) = sum over pixels P of dy_g[k, P] * col[d, P]
/// (depth = C/groups*KH*KW, col the im2col matrix), as dot products along the pixels: both dy and the
/// image already run along pixels, so nothing is transposed, and each accumulator sums a whole chunk
/// of pixels (many images of a small plane, or part of a large one) before dW is touched, instead of
/// one image's OH*OW as an image-by-image GEMM does. Per chunk: dy's rows are gathered once into a
/// buffer that stays in cache, then for each NR rows of col (unfolded straight from x into a small
/// buffer) every MR rows of dy go through <see cref="DotMicroKernels"/>. Chunks depend only on the
/// geometry, and each dW element is added up chunk after chunk in order, so any split of the dW
/// columns between threads gives the same bits. See <see cref="ConvolutionReference.BackwardWeights"/>.
/// </summary>
internal static unsafe class ConvolutionWeightGradient
{
    private const int DyChunkFloats = 64 * 1024;   // gathered dy rows per chunk: fits in L2 with room to spare
    private const int MinChunk = 256, MaxChunk = 2048;

    /// <summary>Fewest output pixels worth a slab of their own (a partial dW, summed at the end).</summary>
    public const int SlabPixels = 1024;

    [ThreadStatic] private static float[]? t_dy;
    [ThreadStatic] private static float[]? t_col;

    /// <summary>Tiles of dW columns (within each group) that <see cref="Images"/> can be split into.</summary>
    public static int ColumnTiles(in Conv2dGeometry g) => (Depth(g) + Nr - 1) / Nr;

    private static int Nr => DotMicroKernels.TileFor(SimdWidth.Max).Nr;

    private static int Depth(in Conv2dGeometry g) => g.GroupInChannels * g.KernelHeight * g.KernelWidth;

    /// <summary>Pixels per chunk: as many as keep the gathered dy rows of a chunk in cache.</summary>
    internal static int ChunkPixels(int paddedRows) =>
        Math.Clamp(DyChunkFloats / paddedRows, MinChunk, MaxChunk) / DotMicroKernels.Align * DotMicroKernels.Align;

    /// <summary>
    /// dWeight[k, d] for every k and for d in column tiles [t0, t1) of each group = the sum over images
    /// [n0, n1), overwritten.
    /// </summary>
    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C/groups, KH, KW)
    public static void Images(in Conv2dGeometry g, int n0, int n1, float* x, float* dy, float* dWeight, int t0, int t1)
    {
        int width = SimdWidth.Max;
        int kg = g.GroupOutChannels, depth = Depth(g), ohw = g.OutHeight * g.OutWidth;
        (int mr, int nr) = DotMicroKernels.TileFor(width, kg);
        int d0 = t0 * nr, d1 = Math.Min(depth, t1 * nr);
        if (d0 >= d1 || n0 >= n1) return;
        int rows = (kg + mr - 1) / mr * mr;
        (int perChunk, int rowsPerPiece) = Chunking(g, ChunkPixels(rows));
        int ld = Padded(perChunk * rowsPerPiece * g.OutWidth);

        float[] dyBuf = Scratch(ref t_dy, rows * ld);
        float[] colBuf = Scratch(ref t_col, nr * ld);
        float* tile = stackalloc float[mr * nr];
        fixed (float* pdy = dyBuf, pcol = colBuf)
        {
            for (int grp = 0; grp < g.Groups; grp++)
            {
                float* dwg = dWeight + (long)grp * kg * depth;
                bool first = true;
                for (int n = n0; n < n1; n += perChunk)
                {
                    int count = Math.Min(perChunk, n1 - n);
                    for (int oy0 = 0; oy0 < g.OutHeight; oy0 += rowsPerPiece)
                    {
                        int oy1 = Math.Min(g.OutHeight, oy0 + rowsPerPiece);
                        int length = Padded(count * (oy1 - oy0) * g.OutWidth);
                        GatherDy(g, dy, grp, n, count, oy0, oy1, rows, pdy, ld);
                        for (int d = d0; d < d1; d += nr)
                        {
                            UnfoldRows(g, x, grp, n, count, oy0, oy1, d, nr, pcol, ld);
                            int cols = Math.Min(nr, d1 - d);
                            for (int k = 0; k < kg; k += mr)
                            {
                                DotMicroKernels.Tile(width, length, pdy + (long)k * ld, pcol, ld, tile, mr);
                                int live = Math.Min(mr, kg - k);
                                for (int i = 0; i < live; i++)
                                {
                                    float* dst = dwg + (long)(k + i) * depth + d;
                                    float* src = tile + i * nr;
                                    if (first) for (int j = 0; j < cols; j++) dst[j] = src[j];
                                    else for (int j = 0; j < cols; j++) dst[j] += src[j];
                                }
                            }
                        }
                        first = false;
                    }
                }
            }
        }
    }

    /// <summary>
    /// How the pixels of a run of images are cut into chunks of about `chunk` pixels: `perChunk` whole images
    /// side by side when a plane fits, else one image at a time in pieces of `rowsPerPiece` whole output rows.
    /// </summary>
    internal static (int PerChunk, int RowsPerPiece) Chunking(in Conv2dGeometry g, int chunk)
    {
        int oh = g.OutHeight, ohw = oh * g.OutWidth;
        if (ohw <= chunk) return (chunk / ohw, oh);
        int pieces = (ohw + chunk - 1) / chunk;
        return (1, (oh + pieces - 1) / pieces);
    }

    private static int Padded(int pixels) => (pixels + DotMicroKernels.Align - 1) / DotMicroKernels.Align * DotMicroKernels.Align;

    private static float[] Scratch(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return buffer;
    }

    /// <summary>
    /// Gathers one chunk of dy for group grp's output channels: row k holds, for images n .. n+count-1 side by
    /// side, dy[image, grp*K/groups + k, output rows oy0 .. oy1), then zeros up to the next multiple of
    /// <see cref="DotMicroKernels.Align"/>; rows from K/groups to `rows` are zero.
    /// </summary>
    // dy: (N, K, OH, OW); dst: (rows, ld)
    internal static void GatherDy(in Conv2dGeometry g, float* dy, int grp, int n, int count, int oy0, int oy1, int rows, float* dst, int ld)
    {
        int kg = g.GroupOutChannels, ow = g.OutWidth, ohw = g.OutHeight * ow;
        int run = (oy1 - oy0) * ow, pixels = count * run, length = Padded(pixels), width = SimdWidth.Max;
        for (int k = 0; k < rows; k++)
        {
            float* d = dst + (long)k * ld;
            if (k >= kg)
            {
                Zero(width, d, length);
                continue;
            }
            for (int i = 0; i < count; i++)
                Copy(width, dy + ((long)(n + i) * g.OutChannels + grp * kg + k) * ohw + oy0 * ow, d + i * run, run);
            Zero(width, d + pixels, length - pixels);
        }
    }

    /// <summary>
    /// Rows d0 .. d0+nr-1 of group grp's column matrix for one chunk (output rows oy0 .. oy1 of images n ..
    /// n+count-1, side by side): row d = (c*KH + kh)*KW + kw holds x[c, oh*strideH - padH + kh*dilationH,
    /// ow*strideW - padW + kw*dilationW], zero outside the image, then zeros up to the next multiple of
    /// <see cref="DotMicroKernels.Align"/>. Rows at or past depth are zero. Image by image, all nr rows of
    /// one image before the next: the rows of a tile read the same few input rows, which then stay in L1.
    /// </summary>
    // x: (N, C, H, W); dst: (nr, ld)
    internal static void UnfoldRows(in Conv2dGeometry g, float* x, int grp, int n, int count, int oy0, int oy1, int d0, int nr, float* dst, int ld)
    {
        int h = g.InHeight, w = g.InWidth, ow = g.OutWidth, kh = g.KernelHeight, kw = g.KernelWidth, depth = Depth(g);
        int sh = g.StrideHeight, sw = g.StrideWidth;
        int run = (oy1 - oy0) * ow, pixels = count * run, length = Padded(pixels), width = SimdWidth.Max;
        int live = Math.Clamp(depth - d0, 0, nr);
        bool pointwise = Convolution.IsPointwise(g);
        // Per row: the offset in an image's group of input planes of its first valid input, the valid output
        // columns [lo, hi) and output rows [ya, yb) (within [oy0, oy1)).
        long* start = stackalloc long[Math.Max(live, 1)];
        int* bounds = stackalloc int[4 * Math.Max(live, 1)];
        for (int j = 0; j < live; j++)
        {
            int d = d0 + j;
            int c = d / (kh * kw), r = d - c * kh * kw, ki = r / kw, kj = r - ki * kw;
            int offW = kj * g.DilationWidth - g.PadWidth, offH = ki * g.DilationHeight - g.PadHeight;
            (int lo, int hi) = Im2Col.ValidRange(offW, sw, w, ow);
            (int ya, int yb) = Im2Col.ValidRange(offH, sh, h, g.OutHeight);
            ya = Math.Clamp(ya, oy0, oy1);
            yb = Math.Clamp(yb, ya, oy1);
            start[j] = (long)c * h * w + (long)(ya * sh + offH) * w + offW;
            bounds[4 * j] = lo; bounds[4 * j + 1] = hi; bounds[4 * j + 2] = ya; bounds[4 * j + 3] = yb;
        }
        long imageStride = (long)g.InChannels * h * w;
        float* xg = x + (long)n * imageStride + (long)grp * g.GroupInChannels * h * w;
        for (int i = 0; i < count; i++, xg += imageStride)
        {
            for (int j = 0; j < live; j++)
            {
                float* o = dst + (long)j * ld + i * run;
                if (pointwise)
                {
                    // The plane is already this row: one contiguous copy.
                    Copy(width, xg + start[j], o, run);   // start is plane c's row oy0
                    continue;
                }
                int lo = bounds[4 * j], hi = bounds[4 * j + 1], ya = bounds[4 * j + 2], yb = bounds[4 * j + 3];
                Zero(width, o, (ya - oy0) * ow);
                o += (ya - oy0) * ow;
                float* src = xg + start[j];
                if (sw == 1 && lo == 0 && hi == ow)
                {
                    CopyRows(width, src, sh * w, o, ow, yb - ya);
                    o += (yb - ya) * ow;
                }
                else
                {
                    for (int y = ya; y < yb; y++, src += sh * w, o += ow)
                    {
                        Zero(width, o, lo);
                        if (sw == 1) Copy(width, src + lo, o + lo, hi - lo);
                        else for (int q = lo; q < hi; q++) o[q] = src[q * sw];
                        Zero(width, o + hi, ow - hi);
                    }
                }
                Zero(width, o, (oy1 - yb) * ow);
            }
        }
        for (int j = 0; j < nr; j++)
        {
            float* row = dst + (long)j * ld;
            if (j < live) Zero(width, row + pixels, length - pixels);
            else Zero(width, row, length);
        }
    }

    /// <summary>Copies `rows` rows of `count` floats, `stride` apart in src, one after another into dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void CopyRows(int width, float* src, int stride, float* dst, int count, int rows)
    {
        bool vectors = SimdWidth.Allows256(width);
        if (count == 8 && vectors)
        {
            for (int y = 0; y < rows; y++, src += stride, dst += 8) Vector256.Load(src).Store(dst);
        }
        else if (count > 8 && count <= 16 && vectors)
        {
            // Two vectors, the second overlapping the first: no branch per row.
            for (int y = 0; y < rows; y++, src += stride, dst += count)
            {
                Vector256.Load(src).Store(dst);
                Vector256.Load(src + count - 8).Store(dst + count - 8);
            }
        }
        else
        {
            for (int y = 0; y < rows; y++, src += stride, dst += count) Copy(width, src, dst, count);
        }
    }

    /// <summary>A short copy (often one output row of 8 to 64 floats): whole vectors, the last one overlapping.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(int width, float* src, float* dst, int count)
    {
        if (count >= 16 && SimdWidth.Allows512(width))
        {
            int i = 0;
            for (; i + 16 < count; i += 16) Vector512.Load(src + i).Store(dst + i);
            Vector512.Load(src + count - 16).Store(dst + count - 16);
        }
        else if (count >= 8 && SimdWidth.Allows256(width))
        {
            int i = 0;
            for (; i + 8 < count; i += 8) Vector256.Load(src + i).Store(dst + i);
            Vector256.Load(src + count - 8).Store(dst + count - 8);
        }
        else if (count >= 4 && SimdWidth.Allows128(width))
        {
            int i = 0;
            for (; i + 4 < count; i += 4) Vector128.Load(src + i).Store(dst + i);
            Vector128.Load(src + count - 4).Store(dst + count - 4);
        }
        else
        {
            for (int i = 0; i < count; i++) dst[i] = src[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Zero(int width, float* dst, int count)
    {
        if (count >= 8 && SimdWidth.Allows256(width))
        {
            int i = 0;
            for (; i + 8 < count; i += 8) Vector256<float>.Zero.Store(dst + i);
            Vector256<float>.Zero.Store(dst + count - 8);
        }
        else if (count >= 4 && SimdWidth.Allows128(width))
        {
            int i = 0;
            for (; i + 4 < count; i += 4) Vector128<float>.Zero.Store(dst + i);
            Vector128<float>.Zero.Store(dst + count - 4);
        }
        else
        {
            for (int i = 0; i < count; i++) dst[i] = 0f;
        }
    }
}
