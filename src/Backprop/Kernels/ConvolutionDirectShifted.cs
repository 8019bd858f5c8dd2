namespace Backprop.Kernels;

/// <summary>
/// How <see cref="ConvolutionDirect.Forward"/> reads a stride-1 image whose output rows are not a multiple of 16 wide
/// (LeNet's conv2 and cifar10_quick's conv3: 8 wide) with AVX-512: instead of the zero-bordered copy, whose 16-pixel
/// vectors would be two runs of 8 (two loads and an insert each), one shifted copy per kernel column. Plane
/// (c, kw) holds padded pixel (h, ow + kw*dW) at (h, ow) in rows exactly OW wide, so tap (c, kh, kw) of output pixel
/// q = oh*OW + ow sits at plane (c, kw) + q + kh*dH*OW: every 32-pixel panel is 32 contiguous floats, read by the
/// contiguous kernels. The copy is KW*OW/W' times the padded image (5*8/12 for LeNet's conv2, 38 KB), a small cost
/// next to the K multiply-adds each copied float feeds; the depth order and each output's sum are unchanged, so the
/// results are those of the two-run reads bit for bit.
/// </summary>
internal static unsafe class ConvolutionDirectShifted
{
    /// <summary>AVX-512, stride 1 and output rows that the 16-pixel vectors would otherwise straddle.</summary>
    public static bool Applies(in Conv2dGeometry g, int width) =>
        width == 512 && g.StrideHeight == 1 && g.StrideWidth == 1 && g.OutWidth % 16 != 0
        // At batch > 1 each image's planes are copied per thread: worth it while they stay in L1 next to the weights
        // (LeNet's conv2, 38 KB, and conv1); at batch 100 cifar10_quick's conv3 (60 KB of planes) measured 1.05x the time.
        && (g.Batch == 1 || (long)g.InChannels * g.KernelWidth * (g.InHeight + 2 * g.PadHeight) * g.OutWidth <= MaxBatchedPlanes);

    private const long MaxBatchedPlanes = 10 << 10;   // floats: 40 KB

    /// <summary>
    /// The shifted planes as an unpadded stride-1 geometry: C*KW channels of (H + 2*padH) x OW, read by a KH x 1 kernel,
    /// so its output is OH x OW and output pixel q starts at q (<see cref="ConvolutionImplicitGemm.RunsOf16"/>).
    /// </summary>
    public static Conv2dGeometry Planes(in Conv2dGeometry g) =>
        new(g.Batch, g.InChannels * g.KernelWidth, g.InHeight + 2 * g.PadHeight, g.OutWidth, g.OutChannels,
            g.KernelHeight, 1, 1, 1, 0, 0, g.DilationHeight, 1, 1);

    /// <summary>For each depth index p = (c*KH + kh)*KW + kw: where its tap starts in the planes (first entry of three, as <see cref="ConvolutionImplicitGemm.DepthOffsets"/>).</summary>
    public static void DepthOffsets(in Conv2dGeometry g, in Conv2dGeometry planes, int* table)
    {
        int hp = planes.InHeight, ow = planes.InWidth, p = 0;
        for (int c = 0; c < g.InChannels; c++)
            for (int kh = 0; kh < g.KernelHeight; kh++)
                for (int kw = 0; kw < g.KernelWidth; kw++, p++)
                {
                    table[3 * p] = ((c * g.KernelWidth + kw) * hp + kh * g.DilationHeight) * ow;
                    table[3 * p + 1] = 0;
                    table[3 * p + 2] = 0;
                }
    }

    /// <summary>Writes every plane of one image (C, H, W), padding zeros included: plane (c, kw) row h is padded row h from column kw*dW.</summary>
    /// <remarks>
    /// The whole image is first copied inside a zero-bordered buffer, and each plane row is then one whole-vector copy of
    /// a window of it: clipping each window at the image's edges (7-float copies and single zeros) took 14 µs of a
    /// 64->64 3x3 layer's 80 on 8x8 planes, and windows read right after their padded row was written stalled on store
    /// forwarding.
    /// </remarks>
    public static void CopyPlanes(in Conv2dGeometry g, in Conv2dGeometry planes, float* image, float* copy)
    {
        int hp = planes.InHeight, ow = planes.InWidth, wp = g.InWidth + 2 * g.PadWidth;
        int kernelWidth = g.KernelWidth, dilation = g.DilationWidth, width = SimdWidth.Max;
        long planeLength = (long)hp * ow, paddedLength = (long)g.InChannels * hp * wp;
        bool unpadded = g.PadHeight == 0 && g.PadWidth == 0;   // the windows are read from the image itself
        float[]? buffer = unpadded ? null : System.Buffers.ArrayPool<float>.Shared.Rent((int)paddedLength);
        try
        {
            fixed (float* paddedCopy = buffer)
            {
                float* padded = unpadded ? image : paddedCopy;
                if (!unpadded)
                {
                    new Span<float>(padded, (int)paddedLength).Clear();
                    ConvolutionDirect.CopyInside(g, image, padded, hp, wp);
                }
                // Window kw of a padded row: columns [kw*dW, kw*dW + OW), inside the row since (KW-1)*dW + OW = W + 2*padW.
                float* src = padded, dst = copy;
                for (int c = 0; c < g.InChannels; c++, src += (long)hp * wp, dst += kernelWidth * planeLength)
                    for (int kw = 0; kw < kernelWidth; kw++)
                    {
                        float* from = src + kw * dilation, to = dst + kw * planeLength;
                        for (int i = 0; i < hp; i++, from += wp, to += ow) ConvolutionWeightGradient.Copy(width, from, to, ow);
                    }
            }
        }
        finally
        {
            if (buffer is not null) System.Buffers.ArrayPool<float>.Shared.Return(buffer);
        }
    }
}
