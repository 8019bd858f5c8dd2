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
        // Batch 1 only: at batch 100 (cifar10_quick conv3) the per-image copy, 3x the image, measured 1.05x the time.
        width == 512 && g.Batch == 1 && g.StrideHeight == 1 && g.StrideWidth == 1 && g.OutWidth % 16 != 0;

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
    public static void CopyPlanes(in Conv2dGeometry g, in Conv2dGeometry planes, float* image, float* copy)
    {
        int h = g.InHeight, w = g.InWidth, ph = g.PadHeight, pw = g.PadWidth, hp = planes.InHeight, ow = planes.InWidth;
        int width = SimdWidth.Max;
        float* dst = copy;
        for (int c = 0; c < g.InChannels; c++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
            {
                // Output column j reads image column j + shift; columns [lo, hi) lie inside the image.
                int shift = kw * g.DilationWidth - pw, lo = Math.Clamp(-shift, 0, ow), hi = Math.Clamp(w - shift, lo, ow);
                for (int i = 0; i < hp; i++, dst += ow)
                {
                    int ih = i - ph;
                    if (ih < 0 || ih >= h)
                    {
                        new Span<float>(dst, ow).Clear();
                        continue;
                    }
                    for (int j = 0; j < lo; j++) dst[j] = 0f;
                    if (hi > lo) ConvolutionWeightGradient.Copy(width, image + ((long)c * h + ih) * w + shift + lo, dst + lo, hi - lo);
                    for (int j = hi; j < ow; j++) dst[j] = 0f;
                }
            }
    }
}
