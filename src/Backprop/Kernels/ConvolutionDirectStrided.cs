using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// How <see cref="ConvolutionDirect.Forward"/> runs a strided convolution: the zero-padded image is split into
/// sH x sW phase planes, plane (a, b) holding padded pixels (a + sH*i, b + sW*j). Tap (kh, kw) of output pixel
/// (oy, ox) reads padded pixel (sH*oy + kh*dH, sW*ox + kw*dW), which is pixel (oy + kh*dH / sH, ox + kw*dW / sW) of
/// plane (kh*dH mod sH, kw*dW mod sW): a stride-1 read. So each tap still reads runs of consecutive pixels, and the
/// direct kernels run unchanged on the planes with their own offset table; the depth (C*KH*KW) does not grow.
/// ResNet's stride-2 3x3 and 1x1 layers at batch 1 took 2-3x longer through the implicit GEMM's per-panel packing.
/// </summary>
internal static unsafe class ConvolutionDirectStrided
{
    /// <summary>Strides of 1 or 2 (one may be 1), at least one of them 2.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.StrideHeight is 1 or 2 && g.StrideWidth is 1 or 2 && (g.StrideHeight != 1 || g.StrideWidth != 1);

    /// <summary>
    /// The planes as a stride-1, unpadded geometry the kernels read: C*PA*PB channels (plane (a, b) of channel c is
    /// channel (a*PB + b)*C + c) of OH + (KH-1)*dH/sH rows and OW + (KW-1)*dW/sW columns, so its output is OH x OW.
    /// PA and PB count the phases some tap reads (<see cref="Phases"/>): a 1x1 stride-2 kernel has one plane, not four.
    /// </summary>
    public static Conv2dGeometry Planes(in Conv2dGeometry g)
    {
        int reachH = (g.KernelHeight - 1) * g.DilationHeight / g.StrideHeight, reachW = (g.KernelWidth - 1) * g.DilationWidth / g.StrideWidth;
        int planes = Phases(g.KernelHeight, g.DilationHeight, g.StrideHeight) * Phases(g.KernelWidth, g.DilationWidth, g.StrideWidth);
        return new Conv2dGeometry(g.Batch, g.InChannels * planes, g.OutHeight + reachH, g.OutWidth + reachW,
            g.OutChannels, reachH + 1, reachW + 1, 1, 1, 0, 0, 1, 1, 1);
    }

    // The phases along one axis that some tap k (0 <= k < kernel) reads, k*dilation mod stride: for strides 1 and 2 always
    // 0 .. count-1 (phase 1 of stride 2 only with an odd dilation and a kernel of 2 or more).
    private static int Phases(int kernel, int dilation, int stride) => stride == 2 && kernel >= 2 && dilation % 2 == 1 ? 2 : 1;

    /// <summary>For each depth index p = (c*KH + kh)*KW + kw: where its tap starts in the planes (first entry of three, as <see cref="ConvolutionImplicitGemm.DepthOffsets"/>).</summary>
    public static void DepthOffsets(in Conv2dGeometry g, in Conv2dGeometry planes, int* table)
    {
        int sh = g.StrideHeight, sw = g.StrideWidth, c = g.InChannels, ph = planes.InHeight, pw = planes.InWidth, p = 0;
        int phasesW = Phases(g.KernelWidth, g.DilationWidth, sw);
        for (int cc = 0; cc < c; cc++)
            for (int kh = 0; kh < g.KernelHeight; kh++)
                for (int kw = 0; kw < g.KernelWidth; kw++, p++)
                {
                    int dh = kh * g.DilationHeight, dw = kw * g.DilationWidth;
                    int plane = (dh % sh * phasesW + dw % sw) * c + cc;
                    table[3 * p] = plane * ph * pw + dh / sh * pw + dw / sw;
                    table[3 * p + 1] = dh / sh;
                    table[3 * p + 2] = dw / sw;
                }
    }

    /// <summary>
    /// Writes one image's pixels into its planes in <paramref name="copy"/> (zeroed before the first image: the padding stays zero).
    /// </summary>
    public static void CopyPlanes(in Conv2dGeometry g, in Conv2dGeometry planes, float* image, float* copy)
    {
        int sh = g.StrideHeight, sw = g.StrideWidth, c = g.InChannels, h = g.InHeight, w = g.InWidth;
        int ph = planes.InHeight, pw = planes.InWidth, padH = g.PadHeight, padW = g.PadWidth;
        int phasesH = Phases(g.KernelHeight, g.DilationHeight, sh), phasesW = Phases(g.KernelWidth, g.DilationWidth, sw);
        int width = SimdWidth.Max;
        if (sw == 2 && phasesW == 2 && SimdWidth.AllowsAvx512F(width))
        {
            CopyPlanesPaired(g, planes, phasesH, image, copy);
            return;
        }
        for (int a = 0; a < phasesH; a++)
        {
            for (int b = 0; b < phasesW; b++)
            {
                // Plane columns j whose image column b + sw*j - padW lies in [0, w).
                int j0 = Math.Max(0, (padW - b + sw - 1) / sw), j1 = Math.Min(pw, (w - 1 + padW - b) / sw + 1);
                if (w - 1 + padW - b < 0 || j1 < j0) j1 = j0;   // no such column (C# division rounds a negative numerator up)
                for (int cc = 0; cc < c; cc++)
                {
                    float* src = image + (long)cc * h * w, plane = copy + ((long)(a * phasesW + b) * c + cc) * ph * pw;
                    for (int i = 0; i < ph; i++)
                    {
                        int row = a + sh * i - padH;
                        if (row < 0 || row >= h) continue;
                        float* s = src + (long)row * w + b - padW, d = plane + (long)i * pw;
                        if (sw == 1) new ReadOnlySpan<float>(s + j0, j1 - j0).CopyTo(new Span<float>(d + j0, j1 - j0));
                        else StridedRows.GatherEven(width, s + 2 * j0, d + j0, j1 - j0);   // sw is 2
                    }
                }
            }
        }
    }

    /// <summary>
    /// <see cref="CopyPlanes"/> for a stride-2 width with both column phases read (AVX-512): each image row is read once,
    /// 32 columns at a time, and its even and odd columns go to the two planes of its row phase. Phase by phase, every
    /// row was read twice and moved 16 floats per call, which cost a quarter of ResNet's stride-2 3x3 forward at batch 64.
    /// (A 1x1 kernel reads one column phase; it keeps the phase-by-phase copy, which was faster there.)
    /// </summary>
    private static void CopyPlanesPaired(in Conv2dGeometry g, in Conv2dGeometry planes, int phasesH, float* image, float* copy)
    {
        int sh = g.StrideHeight, c = g.InChannels, h = g.InHeight, w = g.InWidth;
        int ph = planes.InHeight, pw = planes.InWidth, padH = g.PadHeight, padW = g.PadWidth;
        long planeLength = (long)ph * pw;
        // Image column x lies in column phase (x + padW) % 2 at plane column (x + padW) / 2: the even columns in phase
        // padW % 2, the odd ones in the other.
        int evenPhase = padW % 2, oddPhase = 1 - evenPhase;
        Vector512<int> evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<int> odds = evens + Vector512<int>.One;
        for (int cc = 0; cc < c; cc++)
        {
            float* src = image + (long)cc * h * w;
            // padded row y + padH: row phase a, plane row i (counted along, not divided per row)
            for (int y = 0, a = padH % sh, i = padH / sh; y < h; y++, src += w, i += ++a == sh ? 1 : 0, a = a == sh ? 0 : a)
            {
                if (a >= phasesH || i >= ph) continue;   // a row no tap reads
                float* even = copy + ((long)(2 * a + evenPhase) * c + cc) * planeLength + (long)i * pw;
                float* odd = copy + ((long)(2 * a + oddPhase) * c + cc) * planeLength + (long)i * pw;
                int x = 0;
                // 16 plane columns from (x + padW) / 2 on (evens) and (x + 1 + padW) / 2 on (odds), inside the plane row
                for (; x + 32 <= w && (x + 1 + padW) / 2 + 16 <= pw; x += 32)
                {
                    Vector512<float> lo = Vector512.Load(src + x), hi = Vector512.Load(src + x + 16);
                    Avx512F.PermuteVar16x32x2(lo, evens, hi).Store(even + (x + padW) / 2);
                    Avx512F.PermuteVar16x32x2(lo, odds, hi).Store(odd + (x + 1 + padW) / 2);
                }
                for (; x + 16 <= w && (x + 1 + padW) / 2 + 8 <= pw; x += 16)   // a row of 16 (ResNet's 16x16 planes)
                {
                    Vector512<float> v = Vector512.Load(src + x);
                    Avx512F.PermuteVar16x32(v, evens).GetLower().Store(even + (x + padW) / 2);
                    Avx512F.PermuteVar16x32(v, odds).GetLower().Store(odd + (x + 1 + padW) / 2);
                }
                for (; x < w; x++)
                {
                    int j = (x + padW) / 2;
                    if (j < pw) ((x & 1) == 0 ? even : odd)[j] = src[x];
                }
            }
        }
    }
}
