using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// The weight gradient on AVX-512 or AVX2 for stride-w 1 as dot products along output rows, read in place:
/// dW[k, d] = sum over pixels of dy[k, pixel] * x[d's offset + pixel], where a vector of 16 (AVX2: 8) pixels of one output
/// row is a contiguous run of dy's plane and of a zero-bordered copy of x (stride-w 1, so depth row d's pixels are x's
/// row shifted by d's kernel offset). Each register tile holds 4 channels x 6 depth rows (AVX2: 4 x 3) of vector
/// partial sums: per 16 pixels 10 loads feed 24 multiply-adds (AVX2: per 8 pixels 7 loads, 12), with nothing unfolded or transposed. The broadcast path
/// (<see cref="ConvolutionDirectWeightGradient"/>) skips shallow layers (dy transposed for too few multiply-adds), and the
/// packed dot products (<see cref="ConvolutionWeightGradient"/>) unfold every depth row first. Images go in chunks that stay in L2.
/// From 24 images on, the threads share out fixed slabs of about 12 images (<see cref="ConvolutionDirectWeightGradient.Slabs"/>),
/// each thread copying its own images and running every tile over them; below, the threads split the tiles of each chunk.
/// Split by tiles, each thread read every image's copy, half of them made by the other core, and 2 threads took longer than
/// one (ResNet's 1x1 shortcut weight gradient, 16 -> 32 on 16x16 at batch 128: 0.56 ms against 0.51); by slabs, 0.51x the
/// tile split's time on 2 threads, ResNet's stem 0.72x. Each lane sums its pixels image after image in order, the slabs'
/// sums are added in slab order, and the lanes in a fixed order at the end: the same bits for any
/// <see cref="KernelThreads.Count"/>.
/// </summary>
internal static unsafe class ConvolutionRowDotWeightGradient
{
    private const long ChunkFloats = 1 << 18;   // image copies and dy per chunk: 1 MiB, in L2
    private const int Parts = 4;   // pieces of an image's copy

    /// <summary>True when <see cref="Compute"/> runs this convolution's weight gradient.</summary>
    /// <remarks>
    /// Only below depth 64 (a first layer's 3x3x3 = 27), where <see cref="ConvolutionDirectWeightGradient"/> does not run:
    /// ResNet's stem (3->16 at 32x32) took 1.6x less CPU time than the packed dot products. At 16->16 (depth 144) it took
    /// 1.2x more than the broadcast kernel: each step streams 4 dy and 6 x vectors from L2 for only 24 multiply-adds, and
    /// blocking output rows for L1 (every tile's partial sums reloaded per block) ran slower still.
    /// </remarks>
    public static bool Applies(in Conv2dGeometry g) => InPlace(g) || Shifted(g);

    // Rows read in place from one bordered copy: output rows a multiple of the lanes, depth below 64 (see Applies).
    private static bool InPlace(in Conv2dGeometry g)
    {
        int width = SimdWidth.Max;
        return ConvolutionDirect.Enabled && width >= 256 && g.Groups == 1 && g.StrideWidth == 1 && g.OutWidth % (width / 32) == 0
            && g.InChannels * g.KernelHeight * g.KernelWidth < 64;
    }

    // One copy of x per kernel column, rows OW wide (stride 1 both ways): a depth row's pixels are then one contiguous run of
    // OH*OW, so only the plane, not the row, must be a multiple of the lanes. LeNet's conv1 (24-pixel rows, depth 25): 0.79x the
    // CPU time of the packed dot products on AVX-512. Its conv2 (depth 500, K 50, 8-pixel rows) took 1.3-1.6x their time this
    // way (each tile streams its 10 vectors per 24 multiply-adds from L2), so the depth limit stays.
    private static bool Shifted(in Conv2dGeometry g)
    {
        int width = SimdWidth.Max;
        return ConvolutionDirect.Enabled && width >= 256 && g.Groups == 1 && g.StrideWidth == 1 && g.StrideHeight == 1
            && (long)g.OutHeight * g.OutWidth % (width / 32) == 0 && g.InChannels * g.KernelHeight * g.KernelWidth < 64;
    }

    private static (int Mr, int Nr) TileFor(int width) => width == 512 ? (4, 6) : (4, 3);

    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C, KH, KW) overwritten
    public static void Compute(in Conv2dGeometry g, float* x, float* dy, float* dWeight)
    {
        var plan = new Plan(g);
        int slabs = ConvolutionDirectWeightGradient.Slabs(g);
        long slabFloats = (long)plan.Tiles * plan.TileFloats;
        float[] partial = ArrayPool<float>.Shared.Rent((int)(slabs * slabFloats));   // each slab's tiles' vector sums
        int[] offsets = ArrayPool<int>.Shared.Rent(3 * plan.Depth);   // (depth, 3): each depth row's offset in a bordered copy first
        try
        {
            fixed (float* pp = partial)
            fixed (int* po = offsets)
            {
                if (plan.Shifted) ShiftedOffsets(g, plan.Hp, po);
                else ConvolutionImplicitGemm.DepthOffsets(g with { InHeight = plan.Hp, InWidth = plan.Wp, PadHeight = 0, PadWidth = 0 }, po);
                plan = plan with { Offsets = (nint)po };
                new Span<float>(pp, (int)(slabs * slabFloats)).Clear();
                if (slabs == 1) TilesSplit(plan, x, dy, pp);
                else
                {
                    nint ix = (nint)x, idy = (nint)dy, ip = (nint)pp;
                    var p = plan;
                    KernelThreads.For(slabs, (s0, s1) => SlabsRun(p, (float*)ix, (float*)idy, (float*)ip, slabs, slabFloats, s0, s1));
                    // The slabs' sums added in slab order: the same bits for any thread count.
                    for (int slab = 1; slab < slabs; slab++)
                        System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(pp, (int)slabFloats),
                            new ReadOnlySpan<float>(pp + slab * slabFloats, (int)slabFloats), new Span<float>(pp, (int)slabFloats));
                }
                // dWeight[k, d] = the lanes of its accumulator, added in lane order.
                int mr = plan.Mr, nr = plan.Nr, lanes = plan.Width / 32;
                for (int t = 0; t < plan.Tiles; t++)
                {
                    int k0 = t / plan.DTiles * mr, d0 = t % plan.DTiles * nr;
                    for (int j = 0; j < mr && k0 + j < plan.K; j++)
                        for (int i = 0; i < nr && d0 + i < plan.Depth; i++)
                        {
                            float* v = pp + (long)t * plan.TileFloats + (j * nr + i) * lanes;
                            float sum = v[0];
                            for (int l = 1; l < lanes; l++) sum += v[l];
                            dWeight[(long)(k0 + j) * plan.Depth + d0 + i] = sum;
                        }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partial);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    // The arithmetic of one call, from its geometry and the SIMD width; Offsets: (depth, 3), each depth row's offset in a
    // bordered copy first (set once the table is made).
    private readonly struct Plan
    {
        public readonly Conv2dGeometry G;
        public readonly int Width, Mr, Nr, K, Depth, Ohw, Hp, Wp, PerChunk, DTiles, Tiles, TileFloats;
        public readonly bool Shifted;
        public readonly long CopyLength, DyLength;
        public nint Offsets { get; init; }

        public Plan(in Conv2dGeometry g)
        {
            G = g;
            Width = SimdWidth.Max;
            (Mr, Nr) = TileFor(Width);
            K = g.OutChannels;
            Depth = g.InChannels * g.KernelHeight * g.KernelWidth;
            Ohw = g.OutHeight * g.OutWidth;
            Hp = g.InHeight + 2 * g.PadHeight;
            Wp = g.InWidth + 2 * g.PadWidth;
            Shifted = !InPlace(g);
            CopyLength = Shifted ? (long)g.KernelWidth * g.InChannels * Hp * g.OutWidth : (long)g.InChannels * Hp * Wp;
            DyLength = (long)Ohw * K;
            PerChunk = (int)Math.Clamp(ChunkFloats / (CopyLength + DyLength), 1, g.Batch);
            DTiles = (Depth + Nr - 1) / Nr;
            Tiles = (K + Mr - 1) / Mr * DTiles;
            TileFloats = Mr * Nr * (Width / 32);
        }

        public Rows Shape(int count) => Shifted ? new Rows(count, CopyLength, DyLength, 1, Ohw, 0)
            : new Rows(count, CopyLength, DyLength, G.OutHeight, G.OutWidth, G.StrideHeight * Wp);
    }

    // Under 24 images (one slab): the whole batch in chunks, each chunk's copies made by all threads, then its tiles split
    // over the threads.
    private static void TilesSplit(in Plan p, float* x, float* dy, float* acc)
    {
        float[] copies = ArrayPool<float>.Shared.Rent((int)(p.PerChunk * p.CopyLength));
        try
        {
            fixed (float* pc = copies)
            {
                new Span<float>(pc, (int)(p.PerChunk * p.CopyLength)).Clear();   // the borders stay zero
                Plan plan = p;
                nint ix = (nint)x, idy = (nint)dy, ic = (nint)pc, ip = (nint)acc;
                for (int n0 = 0; n0 < p.G.Batch; n0 += p.PerChunk)
                {
                    int count = Math.Min(p.PerChunk, p.G.Batch - n0), first = n0;
                    KernelThreads.For(count * Parts, (s, e) =>
                    {
                        for (int u = s; u < e; u++) CopyPart(plan, (float*)ix, (float*)ic, first + u / Parts, u / Parts, u % Parts);
                    });
                    KernelThreads.For(p.Tiles, (s, e) => RunTiles(plan, (float*)ic, (float*)idy + first * plan.DyLength, (float*)ip, count, s, e));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copies);
        }
    }

    // Slabs [s0, s1) of the batch's `slabs` (fixed slabs of about 12 images, ConvolutionDirectWeightGradient.Slabs), each
    // summed by this thread alone into its own tile sums: its images copied into the thread's buffer a chunk at a time, then
    // every tile over them. Split by tiles instead, every thread read every copy, half of them made by the other core.
    private static void SlabsRun(in Plan p, float* x, float* dy, float* partial, int slabs, long slabFloats, int s0, int s1)
    {
        int slots = Math.Min(p.PerChunk, (p.G.Batch + slabs - 1) / slabs);
        float[] copies = ArrayPool<float>.Shared.Rent((int)(slots * p.CopyLength));
        try
        {
            fixed (float* pc = copies)
            {
                new Span<float>(pc, (int)(slots * p.CopyLength)).Clear();   // the borders stay zero
                for (int slab = s0; slab < s1; slab++)
                {
                    int n0 = (int)((long)slab * p.G.Batch / slabs), n1 = (int)((long)(slab + 1) * p.G.Batch / slabs);
                    for (int first = n0; first < n1; first += slots)
                    {
                        int count = Math.Min(slots, n1 - first);
                        for (int i = 0; i < count; i++)
                            for (int part = 0; part < Parts; part++) CopyPart(p, x, pc, first + i, i, part);
                        RunTiles(p, pc, dy + first * p.DyLength, partial + slab * slabFloats, count, 0, p.Tiles);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copies);
        }
    }

    // Part `part` of image n's channels into copy slot i.
    private static void CopyPart(in Plan p, float* x, float* copies, int n, int i, int part)
    {
        float* image = x + n * (long)p.G.InChannels * p.G.InHeight * p.G.InWidth;
        int c0 = part * p.G.InChannels / Parts, c1 = (part + 1) * p.G.InChannels / Parts;
        if (p.Shifted) CopyShifted(p.G, image, copies + i * p.CopyLength, p.Hp, c0, c1);
        else ConvolutionDirect.CopyInside(p.G, image, copies + i * p.CopyLength, p.Hp, p.Wp, c0, c1);
    }

    // Tiles [s, e) summed over `count` images of copies and their dy into acc (each tile TileFloats).
    private static void RunTiles(in Plan p, float* copies, float* dy, float* acc, int count, int s, int e)
    {
        int* o = stackalloc int[8];
        long* rows = stackalloc long[4];
        var shape = p.Shape(count);
        for (int t = s; t < e; t++)
        {
            int k0 = t / p.DTiles * p.Mr, d0 = t % p.DTiles * p.Nr;
            // Missing rows of the last tiles read the last real row; their sums are dropped.
            for (int i = 0; i < p.Nr; i++) o[i] = ((int*)p.Offsets)[3 * Math.Min(d0 + i, p.Depth - 1)];
            for (int j = 0; j < p.Mr; j++) rows[j] = (long)Math.Min(k0 + j, p.K - 1) * p.Ohw;
            float* tile = acc + (long)t * p.TileFloats;
            if (p.Width == 512) Tile4x6(tile, copies, dy, o, rows, shape);
            else Tile4x3(tile, copies, dy, o, rows, shape);
        }
    }

    // Depth row (c, kh, kw)'s offset in a shifted copy: kernel column kw's copy, channel c, padded row kh * dilation.
    private static void ShiftedOffsets(in Conv2dGeometry g, int hp, int* table)
    {
        int p = 0, ow = g.OutWidth;
        for (int c = 0; c < g.InChannels; c++)
            for (int kh = 0; kh < g.KernelHeight; kh++)
                for (int kw = 0; kw < g.KernelWidth; kw++, p++)
                    table[3 * p] = ((kw * g.InChannels + c) * hp + kh * g.DilationHeight) * ow;
    }

    // copy[kw, c, h, j] = x[c, h - padH, j + kw * dilation - padW] for channels c0..c1, where that lies inside x; the zeros
    // outside were written once, when the buffer was cleared, and no image writes there.
    private static void CopyShifted(in Conv2dGeometry g, float* image, float* copy, int hp, int c0, int c1)
    {
        int h = g.InHeight, w = g.InWidth, ow = g.OutWidth, width = SimdWidth.Max;
        for (int kw = 0; kw < g.KernelWidth; kw++)
        {
            int shift = kw * g.DilationWidth - g.PadWidth;   // x column of output column j is j + shift
            int j0 = Math.Max(0, -shift), j1 = Math.Min(ow, w - shift);
            if (j1 <= j0) continue;
            for (int c = c0; c < c1; c++)
            {
                float* src = image + (long)c * h * w + j0 + shift, dst = copy + (((long)kw * g.InChannels + c) * hp + g.PadHeight) * ow + j0;
                for (int i = 0; i < h; i++, src += w, dst += ow) ConvolutionWeightGradient.Copy(width, src, dst, j1 - j0);
            }
        }
    }

    /// <summary>
    /// The pixels a tile sums over: `Images` bordered copies (CopyLength apart) and their dy (DyLength apart);
    /// output row r reads x at r*RowStep past each depth row's offset, and Width (a multiple of the lanes) pixels from there.
    /// </summary>
    private readonly record struct Rows(int Images, long CopyLength, long DyLength, int Height, int Width, int RowStep);

    /// <summary>acc (4 x 6 vectors, channel-major) += dy rows (at rows[j]) times x rows (at o[i]), 16 pixels at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Tile4x6(float* acc, float* copies, float* dy, int* o, long* rows, in Rows s)
    {
        Vector512<float> c00 = Vector512.Load(acc), c01 = Vector512.Load(acc + 16), c02 = Vector512.Load(acc + 32);
        Vector512<float> c03 = Vector512.Load(acc + 48), c04 = Vector512.Load(acc + 64), c05 = Vector512.Load(acc + 80);
        Vector512<float> c10 = Vector512.Load(acc + 96), c11 = Vector512.Load(acc + 112), c12 = Vector512.Load(acc + 128);
        Vector512<float> c13 = Vector512.Load(acc + 144), c14 = Vector512.Load(acc + 160), c15 = Vector512.Load(acc + 176);
        Vector512<float> c20 = Vector512.Load(acc + 192), c21 = Vector512.Load(acc + 208), c22 = Vector512.Load(acc + 224);
        Vector512<float> c23 = Vector512.Load(acc + 240), c24 = Vector512.Load(acc + 256), c25 = Vector512.Load(acc + 272);
        Vector512<float> c30 = Vector512.Load(acc + 288), c31 = Vector512.Load(acc + 304), c32 = Vector512.Load(acc + 320);
        Vector512<float> c33 = Vector512.Load(acc + 336), c34 = Vector512.Load(acc + 352), c35 = Vector512.Load(acc + 368);
        int o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5];
        for (int n = 0; n < s.Images; n++)
        {
            float* x = copies + n * s.CopyLength, b = dy + n * s.DyLength;
            float* b0 = b + rows[0], b1 = b + rows[1], b2 = b + rows[2], b3 = b + rows[3];
            for (int r = 0; r < s.Height; r++, x += s.RowStep, b0 += s.Width, b1 += s.Width, b2 += s.Width, b3 += s.Width)
            {
                float* a0 = x + o0, a1 = x + o1, a2 = x + o2, a3 = x + o3, a4 = x + o4, a5 = x + o5;
                for (int q = 0; q < s.Width; q += 16)
                {
                    Vector512<float> y0 = Vector512.Load(b0 + q), y1 = Vector512.Load(b1 + q);
                    Vector512<float> y2 = Vector512.Load(b2 + q), y3 = Vector512.Load(b3 + q);
                    Vector512<float> v = Vector512.Load(a0 + q);
                    c00 = Vector512.FusedMultiplyAdd(y0, v, c00); c10 = Vector512.FusedMultiplyAdd(y1, v, c10);
                    c20 = Vector512.FusedMultiplyAdd(y2, v, c20); c30 = Vector512.FusedMultiplyAdd(y3, v, c30);
                    v = Vector512.Load(a1 + q);
                    c01 = Vector512.FusedMultiplyAdd(y0, v, c01); c11 = Vector512.FusedMultiplyAdd(y1, v, c11);
                    c21 = Vector512.FusedMultiplyAdd(y2, v, c21); c31 = Vector512.FusedMultiplyAdd(y3, v, c31);
                    v = Vector512.Load(a2 + q);
                    c02 = Vector512.FusedMultiplyAdd(y0, v, c02); c12 = Vector512.FusedMultiplyAdd(y1, v, c12);
                    c22 = Vector512.FusedMultiplyAdd(y2, v, c22); c32 = Vector512.FusedMultiplyAdd(y3, v, c32);
                    v = Vector512.Load(a3 + q);
                    c03 = Vector512.FusedMultiplyAdd(y0, v, c03); c13 = Vector512.FusedMultiplyAdd(y1, v, c13);
                    c23 = Vector512.FusedMultiplyAdd(y2, v, c23); c33 = Vector512.FusedMultiplyAdd(y3, v, c33);
                    v = Vector512.Load(a4 + q);
                    c04 = Vector512.FusedMultiplyAdd(y0, v, c04); c14 = Vector512.FusedMultiplyAdd(y1, v, c14);
                    c24 = Vector512.FusedMultiplyAdd(y2, v, c24); c34 = Vector512.FusedMultiplyAdd(y3, v, c34);
                    v = Vector512.Load(a5 + q);
                    c05 = Vector512.FusedMultiplyAdd(y0, v, c05); c15 = Vector512.FusedMultiplyAdd(y1, v, c15);
                    c25 = Vector512.FusedMultiplyAdd(y2, v, c25); c35 = Vector512.FusedMultiplyAdd(y3, v, c35);
                }
            }
        }
        c00.Store(acc); c01.Store(acc + 16); c02.Store(acc + 32); c03.Store(acc + 48); c04.Store(acc + 64); c05.Store(acc + 80);
        c10.Store(acc + 96); c11.Store(acc + 112); c12.Store(acc + 128); c13.Store(acc + 144); c14.Store(acc + 160); c15.Store(acc + 176);
        c20.Store(acc + 192); c21.Store(acc + 208); c22.Store(acc + 224); c23.Store(acc + 240); c24.Store(acc + 256); c25.Store(acc + 272);
        c30.Store(acc + 288); c31.Store(acc + 304); c32.Store(acc + 320); c33.Store(acc + 336); c34.Store(acc + 352); c35.Store(acc + 368);
    }

    /// <summary>
    /// The AVX2 tile: acc (4 x 3 vectors of 8, channel-major), as <see cref="Tile4x6"/> does it. Per 8 pixels 3 x loads
    /// and 4 dy loads feed 12 multiply-adds in all 16 registers; ResNet's stem (16 channels, depth 27) fills its tiles
    /// exactly, where 2 x 5 tiles computed 30 depth rows and loaded 7 vectors per 10 multiply-adds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Tile4x3(float* acc, float* copies, float* dy, int* o, long* rows, in Rows s)
    {
        Vector256<float> c00 = Vector256.Load(acc), c01 = Vector256.Load(acc + 8), c02 = Vector256.Load(acc + 16);
        Vector256<float> c10 = Vector256.Load(acc + 24), c11 = Vector256.Load(acc + 32), c12 = Vector256.Load(acc + 40);
        Vector256<float> c20 = Vector256.Load(acc + 48), c21 = Vector256.Load(acc + 56), c22 = Vector256.Load(acc + 64);
        Vector256<float> c30 = Vector256.Load(acc + 72), c31 = Vector256.Load(acc + 80), c32 = Vector256.Load(acc + 88);
        int o0 = o[0], o1 = o[1], o2 = o[2];
        for (int n = 0; n < s.Images; n++)
        {
            float* x = copies + n * s.CopyLength, b = dy + n * s.DyLength;
            float* b0 = b + rows[0], b1 = b + rows[1], b2 = b + rows[2], b3 = b + rows[3];
            for (int r = 0; r < s.Height; r++, x += s.RowStep, b0 += s.Width, b1 += s.Width, b2 += s.Width, b3 += s.Width)
            {
                float* a0 = x + o0, a1 = x + o1, a2 = x + o2;
                for (int q = 0; q < s.Width; q += 8)
                {
                    Vector256<float> v0 = Vector256.Load(a0 + q), v1 = Vector256.Load(a1 + q), v2 = Vector256.Load(a2 + q);
                    Vector256<float> y = Vector256.Load(b0 + q);
                    c00 = Vector256.FusedMultiplyAdd(y, v0, c00); c01 = Vector256.FusedMultiplyAdd(y, v1, c01); c02 = Vector256.FusedMultiplyAdd(y, v2, c02);
                    y = Vector256.Load(b1 + q);
                    c10 = Vector256.FusedMultiplyAdd(y, v0, c10); c11 = Vector256.FusedMultiplyAdd(y, v1, c11); c12 = Vector256.FusedMultiplyAdd(y, v2, c12);
                    y = Vector256.Load(b2 + q);
                    c20 = Vector256.FusedMultiplyAdd(y, v0, c20); c21 = Vector256.FusedMultiplyAdd(y, v1, c21); c22 = Vector256.FusedMultiplyAdd(y, v2, c22);
                    y = Vector256.Load(b3 + q);
                    c30 = Vector256.FusedMultiplyAdd(y, v0, c30); c31 = Vector256.FusedMultiplyAdd(y, v1, c31); c32 = Vector256.FusedMultiplyAdd(y, v2, c32);
                }
            }
        }
        c00.Store(acc); c01.Store(acc + 8); c02.Store(acc + 16);
        c10.Store(acc + 24); c11.Store(acc + 32); c12.Store(acc + 40);
        c20.Store(acc + 48); c21.Store(acc + 56); c22.Store(acc + 64);
        c30.Store(acc + 72); c31.Store(acc + 80); c32.Store(acc + 88);
    }
}
