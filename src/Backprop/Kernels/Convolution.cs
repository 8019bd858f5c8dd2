using System.Buffers;
using System.Numerics.Tensors;

namespace Backprop.Kernels;

// Which path runs for which shapes ("pointwise" = 1x1 kernel, stride 1, no padding; any dilation):
//
// | pass            | shapes                               | path                                                           | threads split        |
// |-----------------|--------------------------------------|----------------------------------------------------------------|----------------------|
// | all three       | 1x1, stride > 1, no padding (the     | ConvolutionStridedPointwise: x subsampled once, then the       | (image, channel)     |
// |                 | forward only where ConvolutionDirect | pointwise rows below on it; backward-data the direct forward   | planes, then as the  |
// |                 | does not apply), any groups          | of the transposed weights (groups 1), spread onto dx's sampled | pointwise row        |
// |                 |                                      | positions with zeros between                                   |                      |
// | forward         | 3x3 or 5x5, stride 1, dilation 1,    | ConvolutionWinograd.Forward: F(4x4, 3x3), 36 products per      | blocks of tiles      |
// |                 | groups 1, AVX-512 or AVX2, C and K   | 4x4 output tile instead of 144, or F(4x4, 5x5), 64 instead of  |                      |
// |                 | >= 32 (AVX2: >= 16), multiples of 16,| 400; channel-blocked transforms, 36 (64) GEMMs per block of    |                      |
// |                 | >= 128 tiles (ConvolutionWinograd    | tiles kept in L2                                               |                      |
// |                 | .Applies)                            |                                                                |                      |
// | forward, eval   | Winograd's shapes with C and K       | WinogradWeightCache (Functional.Conv2d with the module's       | blocks of tiles (one |
// | Nn.Conv2d only  | multiples of 16 (>= 16), weights <=  | cache): the transformed weights kept between calls, compared   | block: its output    |
// |                 | 1 MiB, >= 16 tiles (AVX-512: or <= 4,| with the weights on every call; before the rows above; blocks | channels)            |
// |                 | 4-row kernels), any batch            | of <= 4 tiles take 4-row product kernels (AVX-512)             |                      |
// | forward         | 3x3, stride 1, dilation 1, pad <= 2, | ConvolutionFusedWinograd44.Forward: F(4x4, 3x3) per block of 16| images               |
// |                 | groups 1, AVX-512, C = K = 16, OW =  | tiles (8 rows x 32 columns), transforms and products in L1/L2  |                      |
// |                 | 32, OH >= 5, N >= 2 (ResNet-20's     | from four column-phase planes of each image (about 0.75-0.8x   |                      |
// |                 | first stage)                         | the F(2x2) row below)                                          |                      |
// | forward         | 3x3, stride 1, dilation 1, pad <= 2, | ConvolutionFusedWinograd.Forward: F(2x2, 3x3) per block of 16  | images               |
// |                 | groups 1, AVX-512, C = K = 16, OW    | tiles (2 rows x 32 columns), transforms and products in L1 from|                      |
// |                 | even and >= 32, N >= 2 (ResNet-20's  | even/odd column planes of each image (0.85x the direct time)   |                      |
// |                 | first stage)                         |                                                                |                      |
// | forward         | 5x5, stride 1, dilation 1, no pad,   | ConvolutionBatchLaneForward: Winograd F(2x2, 5x5) with 16      | (16 images, tile row)|
// |                 | groups 1, OW 8, OH even, N >= 8,     | images per vector (x transposed to lanes), any C and K (LeNet  | units                |
// |                 | AVX-512 (LeNet conv2)                | conv2's 20 -> 50); U broadcast, 5 k x 4 tiles in registers     |                      |
// | forward         | groups 1, not pointwise, AVX-512 or  | ConvolutionDirect.Forward: 32- (AVX2: 16-) pixel panels read   | (image, panel) units |
// |                 | AVX2, stride 1 or 2, OW a multiple   | straight from a zero-bordered copy of each image (stride 2: its|                      |
// |                 | of 8,                                | phase planes, ConvolutionDirectStrided), no packing            |                      |
// |                 |                                      | (AVX-512, OW not a multiple of 16, batch 1 or an image's copies|                      |
// |                 |                                      | <= 40 KB: one shifted copy per kernel column,                  |                      |
// |                 |                                      | ConvolutionDirectShifted)                                      | batch 1, 2+ row tiles|
// |                 | K fills 80% of its row tiles, the    | (evaluation-mode Nn.Conv2d at batch 1: DirectWeightCache keeps | : output-channel row |
// |                 | weights fit 1 MiB                    | the packed weights, compared with the weights on every call)   | tiles                |
// | forward         | groups 1, not pointwise, otherwise   | ConvolutionImplicitGemm.Forward: column panels packed straight | (image, panel) units |
// |                 |                                      | from x                                                         |                      |
// | forward         | pointwise (any groups)               | GEMM straight on x's (C/groups, H*W) plane, no im2col          | images, or GEMM (N=1)|
// | forward         | groups > 1, not pointwise            | Im2Col.Unfold per image and group, then GEMM                   | images, or GEMM (N=1)|
// | backward-data   | 3x3 (5x5), stride 1, dilation 1, pad | ConvolutionWinograd.BackwardData: the Winograd forward on dy,  | blocks of tiles      |
// |                 | <= 2 (4), as forward's Winograd row  | kernel flipped, channels swapped, padding 2 (4) - pad          |                      |
// | backward-data   | forward's fused F(4x4) row for the   | ConvolutionFusedWinograd44.BackwardData: that forward on dy,   | images               |
// |                 | flipped convolution (W 32), pad <= 2 | kernel flipped, channels swapped, padding 2 - pad              |                      |
// | backward-data   | forward's fused row for the flipped  | ConvolutionFusedWinograd.BackwardData: that forward on dy,     | images               |
// |                 | convolution (W even, >= 32), pad <= 2| kernel flipped, channels swapped, padding 2 - pad             |                      |
// | backward-data   | groups 1, not pointwise, stride 1,   | ConvolutionDirect.BackwardData: the forward above on dy, with  | (image, panel) units |
// |                 | W a multiple of 16, AVX-512 or AVX2  | the kernel flipped and channels swapped                        |                      |
// | backward-data   | groups 1, stride 2x2, dilation 1,    | ConvolutionPhaseBackwardData: each of dx's four phase planes a | images               |
// |                 | kernel >= 2x2, N > 1, AVX-512 or AVX2| stride-1 direct convolution of dy with a sub-kernel, no columns |                      |
// |                 |                                      | (one dy copy per column shift, grids as wide as the phases)    |                      |
// | backward-data   | groups 1, stride 1, dilation 1, no   | ConvolutionBatchLaneBackwardData: 16 images per vector (dy     | (16 images, channel) |
// |                 | pad, KW 5, OW 8 (W 12), N >= 8,      | transposed to lanes), one dx row of a channel in 12 registers, | units                |
// |                 | H <= 32, AVX-512 (LeNet conv2)       | W broadcast; no column matrix, no col2im                       |                      |
// | backward-data   | groups 1, not pointwise, N > 1,      | ConvolutionImplicitGemm.BackwardData: W^T*dy panels folded     | images               |
// |                 | otherwise                            | into dx (ColumnFold512 when AVX-512, stride-w 1, KW <= 7 and a |                      |
// |                 |                                      | row fits 16 lanes; else row by row)                            |                      |
// | backward-data   | pointwise (any groups)               | GEMM W^T*dy straight into dx                                   | images, or GEMM (N=1)|
// | backward-data   | not pointwise, groups > 1 or N = 1   | GEMM into a column buffer, then Im2Col.FoldAdd (col2im)        | images, or GEMM (N=1)|
// | backward-weights| 3x3 or 5x5, stride 1, dilation 1,    | ConvolutionWinogradWeightGradient: F(4x4, 3x3) or F(4x4, 5x5)  | fixed slabs of tiles,|
// |                 | groups 1, AVX-512 or AVX2, C and K   | adjoint, 36 (64) GEMMs W^T V over tiles per slab, slabs summed | then output channels |
// |                 | >= 16 and multiples of 16, >= 16     | in order in double, G^T M G (ConvolutionWinogradWeightGradient |                      |
// |                 | 4x4 tiles                            | .Applies)                                                      |                      |
// | backward-weights| groups 1, stride-w 1, depth < 64,    | ConvolutionRowDotWeightGradient: dot products of dy rows with  | fixed slabs of images|
// |                 | OW a multiple of 16 (AVX2: 8), or    | rows of a zero-bordered x copy, vector sums per (k, d); rows   | (from 24 images),    |
// |                 | stride 1 and OH*OW a multiple (one x | not a multiple of the lanes: one x copy per kernel column, OW  | summed in order; else|
// |                 | copy per kernel column), AVX-512/AVX2| wide, so each depth row's pixels are one run (LeNet conv1)     | tiles of dW          |
// | backward-weights| groups 1, K a multiple of 16, depth  | ConvolutionDirectWeightGradient: x broadcast straight from a   | fixed slabs of images|
// |                 | >= 64, AVX-512 or AVX2 (ResNet-20's  | zero-bordered copy, times dy^T; each thread copies the channels| (from 24 images),    |
// |                 | stride-2 3x3 layers, cifar10_quick's | its tiles read and transposes dy a few images at a time, then  | summed in order; else|
// |                 | conv1)                               | runs its tiles over them (one pass, dy^T in L1)                | tiles of dW          |
// | backward-weights| groups 1, stride 1, dilation 1, no   | ConvolutionBatchLaneWeightGradient: 16 images per vector (x and| input channels       |
// |                 | pad, KW 5, N >= 8, H*W <= 256, OH*OW | dy transposed to lanes), 5x5 dot tiles (5 k x the 5 kw of one  |                      |
// |                 | <= 128, AVX-512 (LeNet conv2)        | (c, kh)) read in place, no im2col rows                         |                      |
// | backward-weights| otherwise                            | ConvolutionWeightGradient: dot products along pixel chunks     | slabs of images x dW |
// |                 |                                      | (DotMicroKernels), slabs summed in a fixed order               | column tiles         |
// | backward-bias   | all                                  | per channel sum over images, in image order                    | channels             |
//
// Forward with relu (Functional.Conv2dRelu): each forward path above applies max(y, 0) to its own output panel (or image)
// right after computing it, so the fused ReLU costs no extra pass over y.
// ImplicitGemmEnabled = false (tests only) sends groups-1 forward and backward-data through the im2col rows above.
// Kept-weight forwards of up to 64K output floats (batch-1 layers) run on the threads as split above or on the calling
// thread alone, as the process's timings choose (ThreadChoice); the same bits either way.

/// <summary>
/// 2-D convolution (cross-correlation, as in Caffe and PyTorch) as matrix products: implicit im2col for
/// ordinary convolutions, GEMM straight on the input for pointwise ones, im2col + GEMM one image and group
/// at a time for grouped ones (the table above says which runs when). Results are identical for any
/// <see cref="KernelThreads.Count"/>. See <see cref="ConvolutionReference"/> for the definition.
/// </summary>
public static unsafe class Convolution
{
    private const long SlabWeightBudget = 32L << 20; // floats of partial weight sums BackwardWeights may hold
    private const int MaxSlabs = 8;

    /// <summary>
    /// y[n, k] = bias[k] + sum over c in k's group, kh, kw of weight[k, c, kh, kw] * x[n, c, ih, iw]; with
    /// <paramref name="relu"/>, then max(y, 0) with <see cref="Activations.ReluForward"/>'s bits, applied to each panel while
    /// it is still in cache (a separate ReLU pass would read and write all of y once more).
    /// </summary>
    // x: (N, C, H, W); weight: (K, C/groups, KH, KW); bias: (K) or empty; y: (N, K, OH, OW) overwritten
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        bool relu = false)
    {
        g.Validate();
        CheckLength("x", x.Length, g.InputLength, "(N, C, H, W)");
        CheckLength("weight", weight.Length, g.WeightLength, "(K, C/groups, KH, KW)");
        CheckLength("y", y.Length, g.OutputLength, "(N, K, OH, OW)");
        if (bias.Length != 0) CheckLength("bias", bias.Length, g.OutChannels, "(K)");
        // A 1x1 strided forward the direct path runs stays there: its phase-plane copy is the same subsampling, per image in cache.
        if (ImplicitGemmEnabled && ConvolutionStridedPointwise.Applies(g) && !(g.Groups == 1 && ConvolutionDirect.Applies(g)))
        {
            ConvolutionStridedPointwise.Forward(g, x, weight, bias, y, relu);
            return;
        }
        Conv2dGeometry geo = g;
        int biasLength = bias.Length;
        fixed (float* px = x, pw = weight, pb = bias, py = y)
        {
            if (UsesImplicitGemm(geo) && ConvolutionWinograd.Applies(geo))
            {
                ConvolutionWinograd.Forward(geo, px, pw, biasLength != 0 ? pb : null, py, relu);
                return;
            }
            if (UsesImplicitGemm(geo) && ConvolutionFusedWinograd44.Applies(geo))
            {
                ConvolutionFusedWinograd44.Forward(geo, px, pw, biasLength != 0 ? pb : null, py, relu);
                return;
            }
            if (UsesImplicitGemm(geo) && ConvolutionFusedWinograd.Applies(geo))
            {
                ConvolutionFusedWinograd.Forward(geo, px, pw, biasLength != 0 ? pb : null, py, relu);
                return;
            }
            if (UsesImplicitGemm(geo) && ConvolutionWinograd.Enabled && ConvolutionBatchLaneForward.Applies(geo))
            {
                ConvolutionBatchLaneForward.Forward(geo, px, pw, biasLength != 0 ? pb : null, py, relu);
                return;
            }
            if (UsesImplicitGemm(geo) && ConvolutionDirect.Applies(geo))
            {
                ConvolutionDirect.Forward(geo, px, pw, biasLength != 0 ? pb : null, py, relu);
                return;
            }
            if (UsesImplicitGemm(geo))
            {
                ConvolutionImplicitGemm.Forward(geo, px, pw, biasLength != 0 ? pb : null, py, relu);
                return;
            }
            nint ix = (nint)px, iw = (nint)pw, ib = (nint)pb, iy = (nint)py;
            OverImages(geo.Batch, (s, e) => ForwardImages(geo, s, e, (float*)ix, (float*)iw, (float*)ib, biasLength, (float*)iy, relu));
        }
    }

    /// <summary>dx = the gradient of Forward's y with respect to x, given dy.</summary>
    // dy: (N, K, OH, OW); weight: (K, C/groups, KH, KW); dx: (N, C, H, W) overwritten
    public static void BackwardData(in Conv2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx)
    {
        g.Validate();
        CheckLength("dy", dy.Length, g.OutputLength, "(N, K, OH, OW)");
        CheckLength("weight", weight.Length, g.WeightLength, "(K, C/groups, KH, KW)");
        CheckLength("dx", dx.Length, g.InputLength, "(N, C, H, W)");
        if (ImplicitGemmEnabled && ConvolutionStridedPointwise.Applies(g))
        {
            ConvolutionStridedPointwise.BackwardData(g, dy, weight, dx);
            return;
        }
        Conv2dGeometry geo = g;
        fixed (float* pdy = dy, pw = weight, pdx = dx)
        {
            if (UsesImplicitGemm(geo) && ConvolutionWinograd.AppliesToBackwardData(geo))
            {
                ConvolutionWinograd.BackwardData(geo, pdy, pw, pdx);
                return;
            }
            if (UsesImplicitGemm(geo) && ConvolutionFusedWinograd44.AppliesToBackwardData(geo))
            {
                ConvolutionFusedWinograd44.BackwardData(geo, pdy, pw, pdx);
                return;
            }
            if (UsesImplicitGemm(geo) && ConvolutionFusedWinograd.AppliesToBackwardData(geo))
            {
                ConvolutionFusedWinograd.BackwardData(geo, pdy, pw, pdx);
                return;
            }
            if (UsesImplicitGemm(geo) && ConvolutionDirect.AppliesToBackwardData(geo))
            {
                ConvolutionDirect.BackwardData(geo, pdy, pw, pdx);
                return;
            }
            if (UsesImplicitGemm(geo) && ConvolutionPhaseBackwardData.Applies(geo))
            {
                ConvolutionPhaseBackwardData.BackwardData(geo, pdy, pw, pdx);
                return;
            }
            if (UsesImplicitGemm(geo) && ConvolutionBatchLaneBackwardData.Applies(geo))
            {
                ConvolutionBatchLaneBackwardData.Compute(geo, pdy, pw, pdx);
                return;
            }
            // One image: panels of it cannot go to different threads (they add into the same dx), so GEMM threads instead.
            if (UsesImplicitGemm(geo) && geo.Batch > 1)
            {
                ConvolutionImplicitGemm.BackwardData(geo, pdy, pw, pdx);
                return;
            }
            nint idy = (nint)pdy, iw = (nint)pw, idx = (nint)pdx;
            OverImages(geo.Batch, (s, e) => BackwardDataImages(geo, s, e, (float*)idy, (float*)iw, (float*)idx));
        }
    }

    /// <summary>dWeight and dBias = the gradients of Forward's y with respect to weight and bias, given dy.</summary>
    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C/groups, KH, KW) overwritten; dBias: (K) overwritten, or empty to skip
    public static void BackwardWeights(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dWeight, Span<float> dBias)
    {
        g.Validate();
        CheckLength("x", x.Length, g.InputLength, "(N, C, H, W)");
        CheckLength("dy", dy.Length, g.OutputLength, "(N, K, OH, OW)");
        CheckLength("dWeight", dWeight.Length, g.WeightLength, "(K, C/groups, KH, KW)");
        if (dBias.Length != 0) CheckLength("dBias", dBias.Length, g.OutChannels, "(K)");

        if (ConvolutionStridedPointwise.Applies(g))
        {
            ConvolutionStridedPointwise.BackwardWeights(g, x, dy, dWeight, dBias);
            return;
        }
        if (ConvolutionWinogradWeightGradient.Applies(g))
        {
            fixed (float* px = x, pdy = dy, pdw = dWeight) ConvolutionWinogradWeightGradient.Compute(g, px, pdy, pdw);
        }
        else if (ConvolutionBatchLaneWeightGradient.Shallow(g))
        {
            fixed (float* px = x, pdy = dy, pdw = dWeight) ConvolutionBatchLaneWeightGradient.Compute(g, px, pdy, pdw);
        }
        else if (ConvolutionRowDotWeightGradient.Applies(g))
        {
            fixed (float* px = x, pdy = dy, pdw = dWeight) ConvolutionRowDotWeightGradient.Compute(g, px, pdy, pdw);
        }
        else if (ConvolutionDirectWeightGradient.Applies(g))
        {
            fixed (float* px = x, pdy = dy, pdw = dWeight) ConvolutionDirectWeightGradient.Compute(g, px, pdy, pdw);
        }
        else if (ConvolutionBatchLaneWeightGradient.Applies(g))
        {
            fixed (float* px = x, pdy = dy, pdw = dWeight) ConvolutionBatchLaneWeightGradient.Compute(g, px, pdy, pdw);
        }
        else
        {
            BackwardWeightsInSlabs(g, x, dy, dWeight);
        }
        if (dBias.Length != 0) BackwardBias(g, dy, dBias);
    }

    // dWeight through ConvolutionWeightGradient: images in a fixed number of slabs, summed in order.
    private static void BackwardWeightsInSlabs(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dWeight)
    {
        int n = g.Batch;
        int weightLength = (int)g.WeightLength;
        // Images are summed in a fixed number of slabs (independent of the thread count), each slab
        // in image order, then the slabs are added in order: the same sum for any number of threads.
        // A slab holds at least SlabPixels output pixels, so its dot products pay for their final sums.
        int slabs = (int)Math.Max(1, Math.Min(Math.Min(n, MaxSlabs), SlabWeightBudget / Math.Max(1, weightLength)));
        slabs = (int)Math.Max(1, Math.Min(slabs, (long)n * g.OutHeight * g.OutWidth / ConvolutionWeightGradient.SlabPixels));
        // Threads beyond the slabs split each slab's dW columns: no sum changes, so this may follow the thread count.
        int tiles = ConvolutionWeightGradient.ColumnTiles(g);
        int parts = KernelThreads.InWorker ? 1 : Math.Clamp((KernelThreads.Count + slabs - 1) / slabs, 1, tiles);
        float[]? partial = slabs > 1 ? ArrayPool<float>.Shared.Rent((slabs - 1) * weightLength) : null;
        Conv2dGeometry geo = g;
        try
        {
            fixed (float* px = x, pdy = dy, pdw = dWeight, ppart = partial)
            {
                nint ix = (nint)px, idy = (nint)pdy, idw = (nint)pdw, ipart = (nint)ppart;
                Action<int, int> body = (s, e) =>
                {
                    for (int u = s; u < e; u++)
                    {
                        int slab = u / parts, part = u % parts;
                        int n0 = (int)((long)slab * n / slabs), n1 = (int)((long)(slab + 1) * n / slabs);
                        float* dst = slab == 0 ? (float*)idw : (float*)ipart + (long)(slab - 1) * weightLength;
                        BackwardWeightsImages(geo, n0, n1, (float*)ix, (float*)idy, dst, part * tiles / parts, (part + 1) * tiles / parts);
                    }
                };
                if (slabs * parts == 1) body(0, 1);
                else KernelThreads.For(slabs * parts, body);
            }
            for (int slab = 1; slab < slabs; slab++)
                TensorPrimitives.Add(dWeight.Slice(0, weightLength), partial.AsSpan((slab - 1) * weightLength, weightLength), dWeight.Slice(0, weightLength));
        }
        finally
        {
            if (partial is not null) ArrayPool<float>.Shared.Return(partial);
        }

    }

    // dBias[k] = the sum of dy's plane k over images
    private static void BackwardBias(in Conv2dGeometry g, ReadOnlySpan<float> dy, Span<float> dBias)
    {
        // Threads split the channels; each channel's sum runs in image order, so any split gives the same bits.
        int n = g.Batch, k = g.OutChannels, plane = g.OutHeight * g.OutWidth;
        fixed (float* pdy = dy, pdb = dBias)
        {
            nint idy = (nint)pdy, idb = (nint)pdb;
            KernelThreads.For(k, (k0, k1) =>
            {
                for (int kk = k0; kk < k1; kk++)
                {
                    float sum = 0f;
                    for (int img = 0; img < n; img++) sum += TensorPrimitives.Sum(new ReadOnlySpan<float>((float*)idy + ((long)img * k + kk) * plane, plane));
                    ((float*)idb)[kk] = sum;
                }
            });
        }
    }

    /// <summary>True when the convolution is a plain matrix product at every pixel (1x1, stride 1, no padding).</summary>
    internal static bool IsPointwise(in Conv2dGeometry g) =>
        g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideHeight == 1 && g.StrideWidth == 1 && g.PadHeight == 0 && g.PadWidth == 0;

    /// <summary>Runs body over images: threaded over the batch when it has more than one image, else inline (GEMM threads).</summary>
    private static void OverImages(int n, Action<int, int> body)
    {
        if (n > 1) KernelThreads.For(n, body);
        else body(0, n);
    }

    /// <summary>
    /// Forward and backward-data go through <see cref="ConvolutionImplicitGemm"/> (no column matrix) unless
    /// the convolution is grouped or pointwise (a pointwise input already is the column matrix).
    /// </summary>
    private static bool UsesImplicitGemm(in Conv2dGeometry g) => ImplicitGemmEnabled && g.Groups == 1 && !IsPointwise(g);

    /// <summary>Whether forward may use the implicit-im2col path (tests and benchmarks compare both).</summary>
    internal static bool ImplicitGemmEnabled { get; set; } = true;

    private static int ColumnLength(in Conv2dGeometry g) =>
        IsPointwise(g) ? 0 : g.GroupInChannels * g.KernelHeight * g.KernelWidth * g.OutHeight * g.OutWidth;

    // x: (N, C, H, W); weight: (K, C/groups, KH, KW); bias: (K) or null; y: (N, K, OH, OW)
    private static void ForwardImages(Conv2dGeometry g, int n0, int n1, float* x, float* weight, float* bias, int biasLength, float* y, bool relu)
    {
        int cg = g.GroupInChannels, kg = g.GroupOutChannels, hw = g.InHeight * g.InWidth, ohw = g.OutHeight * g.OutWidth;
        int depth = cg * g.KernelHeight * g.KernelWidth;
        bool pointwise = IsPointwise(g);
        int colLength = ColumnLength(g);
        float[]? col = colLength > 0 ? ArrayPool<float>.Shared.Rent(colLength) : null;
        try
        {
            for (int n = n0; n < n1; n++)
            {
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var xg = new ReadOnlySpan<float>(x + ((long)n * g.InChannels + grp * cg) * hw, cg * hw);
                    var wg = new ReadOnlySpan<float>(weight + (long)grp * kg * depth, kg * depth);
                    var yg = new Span<float>(y + ((long)n * g.OutChannels + grp * kg) * ohw, kg * ohw);
                    ReadOnlySpan<float> columns = xg;
                    if (!pointwise)
                    {
                        Im2Col.Unfold(g, cg, xg, col.AsSpan(0, colLength));
                        columns = col.AsSpan(0, colLength);
                    }
                    // y_g (kg, ohw) = w_g (kg, depth) * col (depth, ohw)
                    Gemm.Sgemm(false, false, kg, ohw, depth, 1f, wg, depth, columns, ohw, 0f, yg, ohw);
                }
                if (biasLength != 0)
                {
                    for (int kk = 0; kk < g.OutChannels; kk++)
                    {
                        var plane = new Span<float>(y + ((long)n * g.OutChannels + kk) * ohw, ohw);
                        TensorPrimitives.Add(plane, bias[kk], plane);
                    }
                }
                if (relu)
                {
                    var image = new Span<float>(y + (long)n * g.OutChannels * ohw, g.OutChannels * ohw);
                    Activations.ReluForward(image, image);   // while the image's output is still in cache
                }
            }
        }
        finally
        {
            if (col is not null) ArrayPool<float>.Shared.Return(col);
        }
    }

    // dy: (N, K, OH, OW); weight: (K, C/groups, KH, KW); dx: (N, C, H, W)
    private static void BackwardDataImages(Conv2dGeometry g, int n0, int n1, float* dy, float* weight, float* dx)
    {
        int cg = g.GroupInChannels, kg = g.GroupOutChannels, hw = g.InHeight * g.InWidth, ohw = g.OutHeight * g.OutWidth;
        int depth = cg * g.KernelHeight * g.KernelWidth;
        bool pointwise = IsPointwise(g);
        int colLength = ColumnLength(g);
        float[]? col = colLength > 0 ? ArrayPool<float>.Shared.Rent(colLength) : null;
        try
        {
            for (int n = n0; n < n1; n++)
            {
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var dyg = new ReadOnlySpan<float>(dy + ((long)n * g.OutChannels + grp * kg) * ohw, kg * ohw);
                    var wg = new ReadOnlySpan<float>(weight + (long)grp * kg * depth, kg * depth);
                    var dxg = new Span<float>(dx + ((long)n * g.InChannels + grp * cg) * hw, cg * hw);
                    if (pointwise)
                    {
                        // dx_g (cg, hw) = w_g^T (cg, kg) * dy_g (kg, hw)
                        Gemm.Sgemm(true, false, cg, hw, kg, 1f, wg, cg, dyg, hw, 0f, dxg, hw);
                        continue;
                    }
                    Span<float> columns = col.AsSpan(0, colLength);
                    // col (depth, ohw) = w_g^T (depth, kg) * dy_g (kg, ohw)
                    Gemm.Sgemm(true, false, depth, ohw, kg, 1f, wg, depth, dyg, ohw, 0f, columns, ohw);
                    dxg.Clear();
                    Im2Col.FoldAdd(g, cg, columns, dxg);
                }
            }
        }
        finally
        {
            if (col is not null) ArrayPool<float>.Shared.Return(col);
        }
    }

    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C/groups, KH, KW): columns in tiles [t0, t1) of each group
    // overwritten with the sum over images [n0, n1)
    private static void BackwardWeightsImages(Conv2dGeometry g, int n0, int n1, float* x, float* dy, float* dWeight, int t0, int t1) =>
        // Dot products along whole chunks of pixels, not a GEMM per image (see ConvolutionWeightGradient).
        ConvolutionWeightGradient.Images(g, n0, n1, x, dy, dWeight, t0, t1);

    private static void CheckLength(string name, int actual, long expected, string shape)
    {
        if (actual != expected)
            throw new ArgumentException($"Convolution: {name} {shape} needs {expected} elements but has {actual}.", name);
    }
}
