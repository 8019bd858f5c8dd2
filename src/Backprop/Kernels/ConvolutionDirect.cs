using System.Buffers;

namespace Backprop.Kernels;

/// <summary>
/// Convolution forward with nothing packed per panel, for AVX-512 or AVX2 and stride 1 or 2 where output rows are whole
/// runs of 8 pixels (cifar10's 32, 16 and 8, ResNet's and VGG's 3x3 layers): each image is copied once into a
/// zero-bordered buffer (its padding made real), and <see cref="DirectMicroKernels"/> read every panel of pixels
/// (32 with AVX-512, 16 with AVX2) straight from that copy. Packing a panel per (image, panel) unit cost as much as
/// its arithmetic where a layer
/// has few output channels (each packed float feeds only K multiply-adds); the copy costs one pass over the
/// image. An unpadded image whose panels are all whole is read in place. A strided convolution reads its image as
/// phase planes (<see cref="ConvolutionDirectStrided"/>): the copy de-interleaves rows and columns once, and each tap
/// then reads a run of consecutive pixels as in the stride-1 case. Backward-data of a stride-1 convolution is
/// the same forward on dy with the kernel flipped and the channels swapped (<see cref="BackwardData"/>).
/// Units (image, panel) are split over threads with a fixed partition, and each output is summed in the same
/// order in any split: results are identical for any <see cref="KernelThreads.Count"/>.
/// </summary>
internal static unsafe class ConvolutionDirect
{
    /// <summary>
    /// True when <see cref="Forward"/> runs this convolution: AVX-512 or AVX2, groups 1, strides 1 or 2
    /// (<see cref="ConvolutionDirectStrided.Applies"/>), output width a multiple of 8, output channels that fill the
    /// kernel's row tiles to at least 80% (3 channels would waste 5 rows of 8), and
    /// weights that stay in L2 (every panel reads all of them: VGG's 256x256 3x3 layers ran no faster than packed).
    /// </summary>
    public static bool Applies(in Conv2dGeometry g)
    {
        int width = SimdWidth.Max;
        if (!Enabled || width < 256 || g.Groups != 1 || g.OutWidth % 8 != 0) return false;
        if ((g.StrideHeight != 1 || g.StrideWidth != 1) && !ConvolutionDirectStrided.Applies(g)) return false;
        int k = g.OutChannels, mr = DirectMicroKernels.RowsFor(width, k);
        return (k + mr - 1) / mr * mr * 4 <= k * 5 && (long)k * g.InChannels * g.KernelHeight * g.KernelWidth <= MaxWeights;
    }

    private const long MaxWeights = 1 << 18;   // floats: 1 MiB

    /// <summary>Whether the direct path may run (tests compare it with the packed path).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>True when backward-data runs as <see cref="Forward"/> of the flipped convolution.</summary>
    /// <remarks>
    /// Only where dx's rows are a multiple of 16 wide: on 8-wide planes (cifar10_quick's conv3, ResNet's last stage) the
    /// packed fold ran 1.1-1.3x faster than the flipped AVX-512 forward with its two-run loads. (Not measured with AVX2.)
    /// </remarks>
    public static bool AppliesToBackwardData(in Conv2dGeometry g) =>
        g.InWidth % 16 == 0 && g.Groups == 1 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.PadHeight <= (g.KernelHeight - 1) * g.DilationHeight && g.PadWidth <= (g.KernelWidth - 1) * g.DilationWidth
        && Applies(Flipped(g));

    /// <summary>
    /// The convolution whose forward is g's backward-data: dy padded by (KH-1)*dilation - pad on each side, read by the
    /// kernel turned 180 degrees with input and output channels swapped. Its output is exactly H x W.
    /// </summary>
    public static Conv2dGeometry Flipped(in Conv2dGeometry g) => new(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels,
        g.KernelHeight, g.KernelWidth, 1, 1, (g.KernelHeight - 1) * g.DilationHeight - g.PadHeight,
        (g.KernelWidth - 1) * g.DilationWidth - g.PadWidth, g.DilationHeight, g.DilationWidth, 1);

    // x: (N, C, H, W); weight: (K, C, KH, KW); bias: (K) or null; y: (N, K, OH, OW) overwritten
    public static void Forward(in Conv2dGeometry g, float* x, float* weight, float* bias, float* y, bool relu = false) =>
        ForwardKept(g, x, weight, bias, y, relu, null, null);

    /// <summary>
    /// <see cref="Forward"/> with the weights already packed
    /// (<see cref="PackWeights"/>) and the depth offsets already made (<see cref="MakeOffsets"/>), as
    /// <see cref="DirectWeightCache"/> keeps them between calls; null packs and makes them here. The same bits either way.
    /// </summary>
    /// <remarks>
    /// At batch 1 with two or more row tiles the threads split the output channels (whole row tiles), not the panels:
    /// each thread then reads only its own rows of the weights, which stay in its core's L2 from call to call when they
    /// are kept, and makes its own copy of the image rather than pulling the caller's out of another core's cache. With
    /// all weights packed by the caller and read by both threads every call, 2 threads took 1.6-2.1x one thread's time
    /// on ResNet-20's batch-1 layers (Zen 5, 2 cores). Each tile runs the same micro-kernel calls in either split.
    /// With a <paramref name="residual"/> (y's shape), y = ReLU(convolution + bias + residual), each thread adding its own
    /// channels or panels (<see cref="ConvolutionResidual"/>); <paramref name="relu"/> is then ignored. With a
    /// <paramref name="check"/>, each thread compares the weights of its share (its output channels, or a slice for a
    /// split by panels) with the kept copy (<see cref="DirectWeightCache"/>).
    /// </remarks>
    internal static void ForwardKept(in Conv2dGeometry g, float* x, float* weight, float* bias, float* y, bool relu, float* packedKept, int* offsetsKept,
        float* residual = null, WeightCheck* check = null)
    {
        if (residual is not null) relu = false;
        int k = g.OutChannels, depth = g.InChannels * g.KernelHeight * g.KernelWidth, ohw = g.OutHeight * g.OutWidth;
        int width = SimdWidth.Max, nr = DirectMicroKernels.PanelFor(width), mr = DirectMicroKernels.RowsFor(width, k);
        int rowsPadded = (k + mr - 1) / mr * mr;
        int panels = (ohw + nr - 1) / nr;
        bool strided = g.StrideHeight != 1 || g.StrideWidth != 1, shifted = ConvolutionDirectShifted.Applies(g, width);
        Conv2dGeometry padded = ReadGeometry(g, width);
        bool contiguous = g.OutWidth % 16 == 0 || shifted;   // AVX-512's 16-pixel vectors lie in one output row (or plane row)
        bool copies = strided || shifted || g.PadHeight != 0 || g.PadWidth != 0 || ohw % nr != 0;
        bool byRows = SplitsRows(g, width);
        float[]? packedWeights = packedKept is null ? ArrayPool<float>.Shared.Rent(PackedLength(g, width)) : null;
        // The bias padded with zeros to whole tiles: the kernels add it to their accumulators as they store (no fill pass).
        float[]? paddedBias = bias is null ? null : ArrayPool<float>.Shared.Rent(rowsPadded);
        int[]? offsets = offsetsKept is null ? ArrayPool<int>.Shared.Rent(3 * depth) : null;
        // One image split by panels: its copy is made once here and shared, rather than once by each thread that takes a
        // panel of it. Split by rows, each thread copies the image itself (Units).
        float[]? shared = copies && g.Batch == 1 && !byRows ? ArrayPool<float>.Shared.Rent(CopyLength(padded)) : null;
        try
        {
            fixed (float* pw = packedWeights)
            fixed (int* po = offsets)
            fixed (float* pshared = shared, pbias = paddedBias)
            {
                if (bias is not null)
                {
                    new Span<float>(bias, k).CopyTo(paddedBias);
                    paddedBias.AsSpan(k, rowsPadded - k).Clear();
                    bias = pbias;
                }
                if (shared is not null)
                {
                    ClearBorders(padded, shifted, pshared);
                    if (strided) ConvolutionDirectStrided.CopyPlanes(g, padded, x, pshared);
                    else if (shifted) ConvolutionDirectShifted.CopyPlanes(g, padded, x, pshared);
                    else CopyInside(g, x, pshared, padded.InHeight, padded.InWidth);
                    x = pshared;
                    copies = false;
                }
                float* packed = packedKept;
                if (packed is null) PackWeights(g, width, weight, packed = ConvolutionImplicitGemm.Align64(pw));
                int* table = offsetsKept;
                if (table is null) MakeOffsets(g, width, table = po);
                Conv2dGeometry geo = g;
                nint ix = (nint)x, ib = (nint)bias, iy = (nint)y, ipk = (nint)packed, ipo = (nint)table, ir = (nint)residual, ic = (nint)check;
                int units = g.Batch * panels;
                if (byRows)
                    KernelThreads.For(rowsPadded / mr, (s, e) =>
                    {
                        Units(geo, padded, copies, contiguous, width, mr, rowsPadded, panels, 0, panels, (float*)ix, (float*)ipk, (int*)ipo, (float*)ib, (float*)iy, relu,
                            s * mr, Math.Min(k, e * mr));
                        if (ir != 0) ConvolutionResidual.Channels((float*)iy, (float*)ir, geo.Batch, k, ohw, s * mr, Math.Min(k, e * mr));
                        if (ic != 0) ((WeightCheck*)ic)->Compare((long)s * mr * depth, (long)Math.Min(k, e * mr) * depth);
                    });
                else
                    KernelThreads.For(units, (s, e) =>
                    {
                        Units(geo, padded, copies, contiguous, width, mr, rowsPadded, panels, s, e, (float*)ix, (float*)ipk, (int*)ipo, (float*)ib, (float*)iy, relu, 0, k);
                        if (ir != 0)
                            for (int unit = s; unit < e; unit++)
                                ConvolutionResidual.Pixels((float*)iy, (float*)ir, unit / panels, k, ohw, unit % panels * nr, Math.Min(ohw, (unit % panels + 1) * nr));
                        if (ic != 0) ((WeightCheck*)ic)->Compare((long)s * k * depth / units, (long)e * k * depth / units);
                    });
            }
        }
        finally
        {
            if (packedWeights is not null) ArrayPool<float>.Shared.Return(packedWeights);
            if (offsets is not null) ArrayPool<int>.Shared.Return(offsets);
            if (paddedBias is not null) ArrayPool<float>.Shared.Return(paddedBias);
            if (shared is not null) ArrayPool<float>.Shared.Return(shared);
        }
    }

    /// <summary>Batch 1 with two or more row tiles: the threads split the output channels (see <see cref="ForwardKept"/>).</summary>
    internal static bool SplitsRows(in Conv2dGeometry g, int width)
    {
        int mr = DirectMicroKernels.RowsFor(width, g.OutChannels);
        return g.Batch == 1 && (g.OutChannels + mr - 1) / mr >= 2;
    }

    /// <summary>Floats <see cref="PackWeights"/> writes, plus room to align the start to 64 bytes.</summary>
    internal static int PackedLength(in Conv2dGeometry g, int width)
    {
        int k = g.OutChannels, mr = DirectMicroKernels.RowsFor(width, k);
        return (k + mr - 1) / mr * mr * g.InChannels * g.KernelHeight * g.KernelWidth + 16;
    }

    /// <summary>The weights (K, C, KH, KW) as the micro-kernels read them: blocks of Kc depth, row tiles of mr channels. <paramref name="packed"/> 64-byte aligned.</summary>
    internal static void PackWeights(in Conv2dGeometry g, int width, float* weight, float* packed)
    {
        int depth = g.InChannels * g.KernelHeight * g.KernelWidth;
        ConvolutionImplicitGemm.PackBlocks(false, weight, depth, g.OutChannels, depth, DirectMicroKernels.RowsFor(width, g.OutChannels), packed);
    }

    /// <summary>The depth offsets table (3 ints per depth index) into the image copy <see cref="ReadGeometry"/> describes.</summary>
    internal static void MakeOffsets(in Conv2dGeometry g, int width, int* table)
    {
        Conv2dGeometry padded = ReadGeometry(g, width);
        if (g.StrideHeight != 1 || g.StrideWidth != 1) ConvolutionDirectStrided.DepthOffsets(g, padded, table);
        else if (ConvolutionDirectShifted.Applies(g, width)) ConvolutionDirectShifted.DepthOffsets(g, padded, table);
        else ConvolutionImplicitGemm.DepthOffsets(padded, table);
    }

    // The image as the kernels read it: padded, with pad 0 (the same output size); strided, its phase planes;
    // output rows not a multiple of 16 wide, one shifted copy per kernel column.
    private static Conv2dGeometry ReadGeometry(in Conv2dGeometry g, int width) =>
        g.StrideHeight != 1 || g.StrideWidth != 1 ? ConvolutionDirectStrided.Planes(g)
        : ConvolutionDirectShifted.Applies(g, width) ? ConvolutionDirectShifted.Planes(g)
        : g with { InHeight = g.InHeight + 2 * g.PadHeight, InWidth = g.InWidth + 2 * g.PadWidth, PadHeight = 0, PadWidth = 0 };

    // The copy's tail: a last, part-filled panel reads up to 4 rows past the image (output rows of 8 or more pixels);
    // those columns are computed and dropped.
    private static int CopyLength(in Conv2dGeometry padded) =>
        (int)((long)padded.InChannels * padded.InHeight * padded.InWidth + 4 * padded.InWidth + 64);

    // Zeros what no image copy writes: all of a zero-bordered copy or phase planes, only the tail of shifted planes
    // (ConvolutionDirectShifted.CopyPlanes writes its padding itself; clearing all 38 KB of LeNet conv2's cost ~3%).
    private static void ClearBorders(in Conv2dGeometry padded, bool shifted, float* copy)
    {
        int length = CopyLength(padded), start = shifted ? padded.InChannels * padded.InHeight * padded.InWidth : 0;
        new Span<float>(copy + start, length - start).Clear();
    }

    // dy: (N, K, OH, OW); weight: (K, C, KH, KW); dx: (N, C, H, W) overwritten. Needs AppliesToBackwardData.
    public static void BackwardData(in Conv2dGeometry g, float* dy, float* weight, float* dx) => BackwardDataByFlipped(g, dy, weight, dx, &Forward);

    /// <summary>
    /// g's backward-data as the forward of <see cref="Flipped"/>(g), run by <paramref name="forward"/> (this class's, or a
    /// Winograd one that takes the same arguments) on the weights turned 180 degrees with input and output channels swapped.
    /// </summary>
    public static void BackwardDataByFlipped(in Conv2dGeometry g, float* dy, float* weight, float* dx,
        delegate*<in Conv2dGeometry, float*, float*, float*, float*, bool, void> forward)
    {
        int k = g.OutChannels, c = g.InChannels, area = g.KernelHeight * g.KernelWidth;
        float[] flipped = ArrayPool<float>.Shared.Rent(k * c * area);
        try
        {
            fixed (float* pf = flipped)
            {
                // flipped[c, k, i, j] = weight[k, c, KH-1-i, KW-1-j]
                for (int kk = 0; kk < k; kk++)
                    for (int cc = 0; cc < c; cc++)
                    {
                        float* src = weight + ((long)kk * c + cc) * area;
                        float* dst = pf + ((long)cc * k + kk) * area;
                        for (int t = 0; t < area; t++) dst[t] = src[area - 1 - t];
                    }
                forward(Flipped(g), dy, pf, null, dx, false);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(flipped);
        }
    }

    // Units [s, e): unit u is image u / panels, output pixels [(u % panels) * nr, +nr); output channels [row0, row1)
    // (row0 a multiple of mr; row1 one too, or K).
    private static void Units(Conv2dGeometry g, Conv2dGeometry padded, bool copies, bool contiguous, int width, int mr, int rowsPadded, int panels,
        int s, int e, float* x, float* packedWeights, int* offsets, float* bias, float* y, bool relu, int row0, int row1)
    {
        int nr = DirectMicroKernels.PanelFor(width);
        int k = g.OutChannels, depth = g.InChannels * g.KernelHeight * g.KernelWidth, ohw = g.OutHeight * g.OutWidth;
        long imageLength = (long)g.InChannels * g.InHeight * g.InWidth;
        int copyLength = copies ? CopyLength(padded) : 0;
        bool strided = g.StrideHeight != 1 || g.StrideWidth != 1, shifted = !strided && ConvolutionDirectShifted.Applies(g, width);
        float[]? copy = copies ? ArrayPool<float>.Shared.Rent(copyLength) : null;
        float[] scratch = ArrayPool<float>.Shared.Rent(rowsPadded * nr);
        try
        {
            fixed (float* pcopy = copy, pscratch = scratch)
            {
                if (copies) ClearBorders(padded, shifted, pcopy);   // borders and tail stay zero; images overwrite the inside
                int copied = -1;
                for (int u = s; u < e; u++)
                {
                    int n = u / panels, j0 = u % panels * nr, cols = Math.Min(nr, ohw - j0);
                    if (copies && copied != n)
                    {
                        if (strided) ConvolutionDirectStrided.CopyPlanes(g, padded, x + n * imageLength, pcopy);
                        else if (shifted) ConvolutionDirectShifted.CopyPlanes(g, padded, x + n * imageLength, pcopy);
                        else CopyInside(g, x + n * imageLength, pcopy, padded.InHeight, padded.InWidth);
                        copied = n;
                    }
                    float* image = copies ? pcopy : x + n * imageLength;
                    // A part-filled panel goes through the scratch tile (all rows), then its columns are copied out.
                    bool whole = cols == nr;
                    float* tile = whole ? y + (long)n * k * ohw + j0 : pscratch;
                    int ld = whole ? ohw : nr;
                    // AVX-512: the panel's two 16-pixel vectors (each one run, or two of 8); AVX2: its two 8-pixel vectors.
                    (int first, int firstHalf) = width == 512 ? ConvolutionImplicitGemm.RunsOf16(padded, j0) : (Start(padded, j0), 0);
                    (int second, int secondHalf) = width == 512 ? ConvolutionImplicitGemm.RunsOf16(padded, j0 + 16) : (Start(padded, j0 + 8), 0);
                    for (int pc = 0; pc < depth; pc += Gemm.Kc)
                    {
                        int kc = Math.Min(Gemm.Kc, depth - pc);
                        bool accumulate = pc != 0;
                        float* rowBias = pc == 0 ? bias : null;   // added once, to the first block's sums
                        float* block = packedWeights + (long)rowsPadded * pc;
                        for (int ir = row0; ir < row1; ir += mr)
                        {
                            float* a = block + (long)ir * kc, c = tile + (long)ir * ld, b = rowBias is null ? null : rowBias + ir;
                            int rows = Math.Min(mr, k - ir);
                            if (width == 512)
                                DirectMicroKernels.Run(mr, contiguous, kc, a, image, offsets + 3 * pc, first, firstHalf, second, secondHalf, c, ld, rows, accumulate, b);
                            else if (rows <= 4)   // the last 1-4 channels of a 6-row tiling: no zero rows computed, no scratch store
                                DirectMicroKernel256x4.Run(kc, a, image, offsets + 3 * pc, first, second, c, ld, rows, accumulate, b);
                            else
                                DirectMicroKernels.Kernel256x6(kc, a, image, offsets + 3 * pc, first, second, c, ld, rows, accumulate, b);
                        }
                    }
                    if (relu) ConvolutionImplicitGemm.ReluRows(tile + (long)row0 * ld, ld, row1 - row0, cols);
                    if (!whole)
                        for (int kk = row0; kk < row1; kk++)
                            new Span<float>(pscratch + kk * nr, cols).CopyTo(new Span<float>(y + ((long)n * k + kk) * ohw + j0, cols));
                }
            }
        }
        finally
        {
            if (copy is not null) ArrayPool<float>.Shared.Return(copy);
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    // Where output pixel q's input run starts in the (padded) image: q's output row and column, stride 1.
    private static int Start(in Conv2dGeometry padded, int q) => q / padded.OutWidth * padded.InWidth + q % padded.OutWidth;

    // Copies channels [c0, c1) of one image (C, H, W) inside the zero borders of a (C, hp, wp) buffer (all of them by default).
    // Row by row with inlined vector copies: a Span copy per row cost 9% of a 16-channel 32x32 layer's forward.
    internal static void CopyInside(in Conv2dGeometry g, float* image, float* copy, int hp, int wp, int c0 = 0, int c1 = -1)
    {
        int h = g.InHeight, w = g.InWidth, ph = g.PadHeight, pw = g.PadWidth, width = SimdWidth.Max;
        for (int c = c0; c < (c1 < 0 ? g.InChannels : c1); c++)
        {
            float* src = image + (long)c * h * w, dst = copy + ((long)c * hp + ph) * wp + pw;
            for (int i = 0; i < h; i++, src += w, dst += wp) ConvolutionWeightGradient.Copy(width, src, dst, w);
        }
    }
}
