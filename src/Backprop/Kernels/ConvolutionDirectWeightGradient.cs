using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The weight gradient on AVX-512 or AVX2 as dW^T (depth, K) = col (depth, P) · dy^T (P, K) with nothing unfolded: for
/// each pixel, the micro-kernel broadcasts the 10 (AVX2: 6) input values a tile of as many depth rows reads (straight from a
/// zero-bordered copy of the image, at the rows' offsets) and multiplies them into dy's K values for that pixel
/// (dy transposed per image, K contiguous). The packed path (<see cref="ConvolutionWeightGradient"/>)
/// unfolds every depth row of the image into a buffer first, which costs as much as its arithmetic where each
/// unfolded value feeds only K = 16..64 multiply-adds. Any stride, padding and dilation; groups 1, K a multiple
/// of 16. From 24 images on, the batch goes in fixed slabs of images (<see cref="Slabs"/>), which the threads share out,
/// each slab summed over all tiles (10 depth rows x 32 or 16 channels; AVX2: 6 x 16) into a partial dW^T of its own, and
/// the partials added in slab order; below, the threads split the tiles. Either way a thread takes its images a few at a
/// time: it copies the channels its tiles read and transposes dy into a buffer of its own, then runs its tiles over them
/// while they are in L1/L2, the accumulators loaded from and stored to dW^T in place between (a tile streaming many images
/// read dy^T from L2: ResNet-20's stride-2 layers ran 10-15% slower). Within a slab each dW element sums the pixels one at
/// a time, image after image in order, in one accumulator: the same bits for any <see cref="KernelThreads.Count"/> and
/// either width. Slabs on 2 threads: cifar10_quick's conv1 0.79x the time split by tiles, ResNet-20's 16->32 stride-2
/// layer 0.79x; on one thread 1.00x and 1.03x (CPU time).
/// </summary>
internal static unsafe class ConvolutionDirectWeightGradient
{
    private const int MaxRows = 10;
    private const int GroupPixels = 128;   // pixels (at least one image) a thread's tiles take in turn: their dy^T rows stay in L1

    /// <summary>True when <see cref="Compute"/> runs this convolution's weight gradient.</summary>
    /// <remarks>
    /// Depth below 64 (a first layer's 3x3x3 = 27) keeps the packed path: each image's dy is transposed for only
    /// depth multiply-adds per value, and VGG's first layer ran 1.7x slower this way.
    /// </remarks>
    public static bool Applies(in Conv2dGeometry g) =>
        ConvolutionDirect.Enabled && SimdWidth.Max >= 256 && g.Groups == 1 && g.OutChannels % 16 == 0
        && g.InChannels * g.KernelHeight * g.KernelWidth >= 64;

    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C, KH, KW) overwritten
    public static void Compute(in Conv2dGeometry g, float* x, float* dy, float* dWeight)
    {
        int k = g.OutChannels, depth = g.InChannels * g.KernelHeight * g.KernelWidth, ohw = g.OutHeight * g.OutWidth;
        int width = SimdWidth.Max, rows = width == 512 ? 10 : 6;
        int panel = width == 512 && k % 32 == 0 ? 32 : 16;   // channels per tile: AVX-512 takes 16 only where K is an odd multiple of 16
        int panels = k / panel, tiles = (depth + rows - 1) / rows * panels;
        float[] sums = ArrayPool<float>.Shared.Rent((depth + MaxRows) * k);   // dW^T (depth, K), then transposed into dWeight
        int[] offsets = ArrayPool<int>.Shared.Rent(3 * depth);   // (depth, 3): each depth row's offset in a bordered copy first
        try
        {
            fixed (float* ps = sums)
            fixed (int* po = offsets)
            {
                int hp = g.InHeight + 2 * g.PadHeight, wp = g.InWidth + 2 * g.PadWidth;
                ConvolutionImplicitGemm.DepthOffsets(g with { InHeight = hp, InWidth = wp, PadHeight = 0, PadWidth = 0 }, po);
                new Span<float>(ps, (depth + MaxRows) * k).Clear();   // the last tile's spare rows too: no stale (denormal) values under the FMAs
                Conv2dGeometry geo = g;
                nint ix = (nint)x, idy = (nint)dy, isum = (nint)ps, io = (nint)po;
                // One pass: each thread takes a few images at a time, copies the channels its tiles read and transposes dy for them,
                // then runs its tiles over them while they are in L1/L2. (Copying whole chunks first, in a pass of their own,
                // took a third of the time at ResNet-20's stride-2 layers, and two thread hand-offs per chunk.) Each dW
                // element sums its slab's pixels in image order, in one accumulator.
                int slabs = Slabs(g), sumLength = (depth + MaxRows) * k;
                if (slabs == 1)
                    KernelThreads.For(tiles, (s, e) => Pass(geo, width, rows, panel, s, e, 0, 1, 1, (float*)ix, (float*)idy, (int*)io, (float*)isum, 0));
                else
                {
                    // Slabs of images, each summed by one thread over all tiles into a partial dW^T of its own, then the
                    // partials added in slab order.
                    float[] partials = ArrayPool<float>.Shared.Rent(slabs * sumLength);
                    try
                    {
                        fixed (float* pp = partials)
                        {
                            new Span<float>(pp, slabs * sumLength).Clear();
                            nint ipp = (nint)pp;
                            KernelThreads.For(slabs, (s, e) =>
                                Pass(geo, width, rows, panel, 0, tiles, s, e, slabs, (float*)ix, (float*)idy, (int*)io, (float*)ipp, sumLength));
                            for (int slab = 0; slab < slabs; slab++)
                                System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(ps, sumLength), new ReadOnlySpan<float>(pp + (long)slab * sumLength, sumLength),
                                    new Span<float>(ps, sumLength));
                        }
                    }
                    finally
                    {
                        ArrayPool<float>.Shared.Return(partials);
                    }
                }
                // dWeight[kk, d] = sums[d, kk]
                for (int d = 0; d < depth; d++)
                    for (int kk = 0; kk < k; kk++) dWeight[(long)kk * depth + d] = ps[(long)d * k + kk];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sums);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    /// <summary>
    /// Slabs of images the batch is summed in (1: the threads split the tiles instead). Split by tiles, every thread copies
    /// and transposes all of the batch's dy: cifar10_quick's conv1 (3 -> 32, 5x5, depth 75, 8 tiles) moved 13 MB of dy
    /// through each of two threads for 1.1 ms of products each. Split by slabs, each thread transposes only its own images.
    /// The count depends on the batch alone (about 12 images a slab, at most 8), never on the threads, so the bits do not
    /// either: each slab sums its images in order, and the slabs are added in order.
    /// </summary>
    internal static int Slabs(in Conv2dGeometry g) => Math.Clamp(g.Batch / 12, 1, 8);

    // One thread's tiles [s, e) over slabs [slabFirst, slabEnd) of the batch's `slabs`, each slab summed into its own sums
    // (sumStride floats apart), a group of images at a time: the group's copies (only the channels these tiles' depth rows
    // read) and transposed dy made into the thread's own buffer, then every tile over them. One buffer for all the slabs.
    private static void Pass(in Conv2dGeometry g, int width, int rows, int panel, int s, int e, int slabFirst, int slabEnd, int slabs,
        float* x, float* dy, int* offsets, float* sums, long sumStride)
    {
        int k = g.OutChannels, depth = g.InChannels * g.KernelHeight * g.KernelWidth, ohw = g.OutHeight * g.OutWidth, panels = k / panel;
        int hp = g.InHeight + 2 * g.PadHeight, wp = g.InWidth + 2 * g.PadWidth, taps = g.KernelHeight * g.KernelWidth;
        long copyLength = (long)g.InChannels * hp * wp, dyLength = (long)ohw * k, xLength = (long)g.InChannels * g.InHeight * g.InWidth;
        int group = Math.Max(1, GroupPixels / ohw);   // images per pass of the tiles: their dy^T rows stay in L1
        int c0 = s / panels * rows / taps, c1 = Math.Min(depth - 1, (e - 1) / panels * rows + rows - 1) / taps + 1;   // channels read
        int bufferLength = (int)(group * (copyLength + dyLength));
        float[] buffer = ArrayPool<float>.Shared.Rent(bufferLength);
        try
        {
            fixed (float* pb = buffer)
            {
                new Span<float>(pb, bufferLength).Clear();   // the copies' borders stay zero
                float* copies = pb, dyT = pb + group * copyLength;
                for (int slab = slabFirst; slab < slabEnd; slab++)
                {
                    int n1 = (int)((long)(slab + 1) * g.Batch / slabs);
                    float* slabSums = sums + slab * sumStride;
                    for (int first = (int)((long)slab * g.Batch / slabs); first < n1; first += group)
                    {
                        int count = Math.Min(group, n1 - first);
                        for (int i = 0; i < count; i++)
                        {
                            ConvolutionDirect.CopyInside(g, x + (first + i) * xLength, copies + i * copyLength, hp, wp, c0, c1);
                            Transpose(dy + (first + i) * dyLength, k, ohw, 0, ohw, dyT + i * dyLength);
                        }
                        for (int t = s; t < e; t++)
                        {
                            int d0 = t / panels * rows, k0 = t % panels * panel;
                            Tile(g, width, count, copies, copyLength, dyT, dyLength, offsets + 3 * d0, Math.Min(rows, depth - d0), k0, panel,
                                slabSums + (long)d0 * k + k0, wp);
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    // One tile over `count` images: sums (rows, K) at d0, k0 += sum over pixels of x at the rows' offsets times dy^T[pixel, k0 .. k0+panel),
    // accumulated in place (sums has MaxRows spare rows: the missing rows of the last tile read row 0's values, their sums are dropped).
    private static void Tile(in Conv2dGeometry g, int width, int count, float* copies, long copyLength, float* dyT, long dyLength, int* offsets,
        int rows, int k0, int panel, float* sums, int wp)
    {
        int k = g.OutChannels;
        int* o = stackalloc int[MaxRows];
        for (int i = 0; i < MaxRows; i++) o[i] = offsets[3 * (i < rows ? i : 0)];
        var shape = new Pixels(count, copyLength, dyLength, g.OutHeight, g.OutWidth, g.StrideHeight * wp, g.StrideWidth, k);
        if (width != 512) Kernel6x16(sums, copies, o, dyT + k0, shape);
        else if (panel == 32) Kernel10x32(sums, copies, o, dyT + k0, shape);
        else Kernel10x16(sums, copies, o, dyT + k0, shape);
    }

    /// <summary>
    /// The pixels a tile sums over: `Images` image copies (copyLength apart) and their transposed dy (dyLength apart,
    /// rows of `Ldb`); output pixel (r, q) reads x at r*RowStep + q*Stride past each depth row's offset.
    /// </summary>
    private readonly record struct Pixels(int Images, long CopyLength, long DyLength, int Height, int Width, int RowStep, int Stride, int Ldb);

    /// <summary>acc (10, 32), rows K apart, += for each pixel in order: x[o[i] + its offset] times b[its row .. +32), one multiply-add each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Kernel10x32(float* acc, float* image, int* o, float* dyT, in Pixels s)
    {
        long l = s.Ldb;   // acc's rows lie K apart, in the sums
        Vector512<float> c00 = Vector512.Load(acc), c01 = Vector512.Load(acc + 16), c10 = Vector512.Load(acc + l), c11 = Vector512.Load(acc + l + 16);
        Vector512<float> c20 = Vector512.Load(acc + 2 * l), c21 = Vector512.Load(acc + 2 * l + 16), c30 = Vector512.Load(acc + 3 * l), c31 = Vector512.Load(acc + 3 * l + 16);
        Vector512<float> c40 = Vector512.Load(acc + 4 * l), c41 = Vector512.Load(acc + 4 * l + 16), c50 = Vector512.Load(acc + 5 * l), c51 = Vector512.Load(acc + 5 * l + 16);
        Vector512<float> c60 = Vector512.Load(acc + 6 * l), c61 = Vector512.Load(acc + 6 * l + 16), c70 = Vector512.Load(acc + 7 * l), c71 = Vector512.Load(acc + 7 * l + 16);
        Vector512<float> c80 = Vector512.Load(acc + 8 * l), c81 = Vector512.Load(acc + 8 * l + 16), c90 = Vector512.Load(acc + 9 * l), c91 = Vector512.Load(acc + 9 * l + 16);
        for (int n = 0; n < s.Images; n++)
        {
            float* x = image + n * s.CopyLength, b = dyT + n * s.DyLength;
            float* x0 = x + o[0], x1 = x + o[1], x2 = x + o[2], x3 = x + o[3], x4 = x + o[4];
            float* x5 = x + o[5], x6 = x + o[6], x7 = x + o[7], x8 = x + o[8], x9 = x + o[9];
            for (int r = 0, row = 0; r < s.Height; r++, row += s.RowStep)
                for (int q = 0, p = row; q < s.Width; q++, p += s.Stride, b += s.Ldb)
                {
                    Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
                    Vector512<float> av = Vector512.Create(x0[p]);
                    c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
                    av = Vector512.Create(x1[p]);
                    c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
                    av = Vector512.Create(x2[p]);
                    c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
                    av = Vector512.Create(x3[p]);
                    c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
                    av = Vector512.Create(x4[p]);
                    c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
                    av = Vector512.Create(x5[p]);
                    c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
                    av = Vector512.Create(x6[p]);
                    c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
                    av = Vector512.Create(x7[p]);
                    c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
                    av = Vector512.Create(x8[p]);
                    c80 = Vector512.FusedMultiplyAdd(av, b0, c80); c81 = Vector512.FusedMultiplyAdd(av, b1, c81);
                    av = Vector512.Create(x9[p]);
                    c90 = Vector512.FusedMultiplyAdd(av, b0, c90); c91 = Vector512.FusedMultiplyAdd(av, b1, c91);
                }
        }
        c00.Store(acc); c01.Store(acc + 16); c10.Store(acc + l); c11.Store(acc + l + 16);
        c20.Store(acc + 2 * l); c21.Store(acc + 2 * l + 16); c30.Store(acc + 3 * l); c31.Store(acc + 3 * l + 16);
        c40.Store(acc + 4 * l); c41.Store(acc + 4 * l + 16); c50.Store(acc + 5 * l); c51.Store(acc + 5 * l + 16);
        c60.Store(acc + 6 * l); c61.Store(acc + 6 * l + 16); c70.Store(acc + 7 * l); c71.Store(acc + 7 * l + 16);
        c80.Store(acc + 8 * l); c81.Store(acc + 8 * l + 16); c90.Store(acc + 9 * l); c91.Store(acc + 9 * l + 16);
    }

    /// <summary><see cref="Kernel10x32"/> for a panel of 16 channels .</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Kernel10x16(float* acc, float* image, int* o, float* dyT, in Pixels s)
    {
        long l = s.Ldb;   // acc's rows lie K apart, in the sums
        Vector512<float> c0 = Vector512.Load(acc), c1 = Vector512.Load(acc + l), c2 = Vector512.Load(acc + 2 * l), c3 = Vector512.Load(acc + 3 * l);
        Vector512<float> c4 = Vector512.Load(acc + 4 * l), c5 = Vector512.Load(acc + 5 * l), c6 = Vector512.Load(acc + 6 * l), c7 = Vector512.Load(acc + 7 * l);
        Vector512<float> c8 = Vector512.Load(acc + 8 * l), c9 = Vector512.Load(acc + 9 * l);
        for (int n = 0; n < s.Images; n++)
        {
            float* x = image + n * s.CopyLength, b = dyT + n * s.DyLength;
            float* x0 = x + o[0], x1 = x + o[1], x2 = x + o[2], x3 = x + o[3], x4 = x + o[4];
            float* x5 = x + o[5], x6 = x + o[6], x7 = x + o[7], x8 = x + o[8], x9 = x + o[9];
            for (int r = 0, row = 0; r < s.Height; r++, row += s.RowStep)
                for (int q = 0, p = row; q < s.Width; q++, p += s.Stride, b += s.Ldb)
                {
                    Vector512<float> b0 = Vector512.Load(b);
                    c0 = Vector512.FusedMultiplyAdd(Vector512.Create(x0[p]), b0, c0);
                    c1 = Vector512.FusedMultiplyAdd(Vector512.Create(x1[p]), b0, c1);
                    c2 = Vector512.FusedMultiplyAdd(Vector512.Create(x2[p]), b0, c2);
                    c3 = Vector512.FusedMultiplyAdd(Vector512.Create(x3[p]), b0, c3);
                    c4 = Vector512.FusedMultiplyAdd(Vector512.Create(x4[p]), b0, c4);
                    c5 = Vector512.FusedMultiplyAdd(Vector512.Create(x5[p]), b0, c5);
                    c6 = Vector512.FusedMultiplyAdd(Vector512.Create(x6[p]), b0, c6);
                    c7 = Vector512.FusedMultiplyAdd(Vector512.Create(x7[p]), b0, c7);
                    c8 = Vector512.FusedMultiplyAdd(Vector512.Create(x8[p]), b0, c8);
                    c9 = Vector512.FusedMultiplyAdd(Vector512.Create(x9[p]), b0, c9);
                }
        }
        c0.Store(acc); c1.Store(acc + l); c2.Store(acc + 2 * l); c3.Store(acc + 3 * l); c4.Store(acc + 4 * l);
        c5.Store(acc + 5 * l); c6.Store(acc + 6 * l); c7.Store(acc + 7 * l); c8.Store(acc + 8 * l); c9.Store(acc + 9 * l);
    }

    /// <summary>The AVX2 tile: acc (6, 16), rows K apart, as <see cref="Kernel10x32"/> does it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Kernel6x16(float* acc, float* image, int* o, float* dyT, in Pixels s)
    {
        long l = s.Ldb;   // acc's rows lie K apart, in the sums
        Vector256<float> c00 = Vector256.Load(acc), c01 = Vector256.Load(acc + 8), c10 = Vector256.Load(acc + l), c11 = Vector256.Load(acc + l + 8);
        Vector256<float> c20 = Vector256.Load(acc + 2 * l), c21 = Vector256.Load(acc + 2 * l + 8), c30 = Vector256.Load(acc + 3 * l), c31 = Vector256.Load(acc + 3 * l + 8);
        Vector256<float> c40 = Vector256.Load(acc + 4 * l), c41 = Vector256.Load(acc + 4 * l + 8), c50 = Vector256.Load(acc + 5 * l), c51 = Vector256.Load(acc + 5 * l + 8);
        for (int n = 0; n < s.Images; n++)
        {
            float* x = image + n * s.CopyLength, b = dyT + n * s.DyLength;
            float* x0 = x + o[0], x1 = x + o[1], x2 = x + o[2], x3 = x + o[3], x4 = x + o[4], x5 = x + o[5];
            for (int r = 0, row = 0; r < s.Height; r++, row += s.RowStep)
                for (int q = 0, p = row; q < s.Width; q++, p += s.Stride, b += s.Ldb)
                {
                    Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
                    Vector256<float> av = Vector256.Create(x0[p]);
                    c00 = Vector256.FusedMultiplyAdd(av, b0, c00); c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
                    av = Vector256.Create(x1[p]);
                    c10 = Vector256.FusedMultiplyAdd(av, b0, c10); c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
                    av = Vector256.Create(x2[p]);
                    c20 = Vector256.FusedMultiplyAdd(av, b0, c20); c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
                    av = Vector256.Create(x3[p]);
                    c30 = Vector256.FusedMultiplyAdd(av, b0, c30); c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
                    av = Vector256.Create(x4[p]);
                    c40 = Vector256.FusedMultiplyAdd(av, b0, c40); c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
                    av = Vector256.Create(x5[p]);
                    c50 = Vector256.FusedMultiplyAdd(av, b0, c50); c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
                }
        }
        c00.Store(acc); c01.Store(acc + 8); c10.Store(acc + l); c11.Store(acc + l + 8); c20.Store(acc + 2 * l); c21.Store(acc + 2 * l + 8);
        c30.Store(acc + 3 * l); c31.Store(acc + 3 * l + 8); c40.Store(acc + 4 * l); c41.Store(acc + 4 * l + 8); c50.Store(acc + 5 * l); c51.Store(acc + 5 * l + 8);
    }

    // dst (pixels, k) = src (k, pixels)^T, for pixels [p0, p1): 8x8 blocks transposed in registers (K is a multiple of 16),
    // the pixels left over one by one. (Element by element the transposes took a fifth of a 16-channel layer's weight gradient.)
    private static void Transpose(float* src, int k, int pixels, int p0, int p1, float* dst)
    {
        int p = p0;
        for (; p + 8 <= p1; p += 8)
            for (int kk = 0; kk < k; kk += 8)
                Transpose8x8.Block(src + (long)kk * pixels + p, pixels, dst + (long)p * k + kk, k);
        for (; p < p1; p++)
        {
            float* row = dst + (long)p * k, column = src + p;
            for (int kk = 0; kk < k; kk++) row[kk] = column[(long)kk * pixels];
        }
    }
}
