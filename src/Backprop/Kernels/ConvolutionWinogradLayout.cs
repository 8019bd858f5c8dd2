using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The layout changes around <see cref="ConvolutionWinograd"/>'s transforms, which carry 16 channels per pixel: input
/// rows from (C, H, W) planes into channel-blocked rows, and each 4x4 (or 2x2) output tile's (pixel, channel) block back
/// into the (K, OH, OW) planes. Both go through 8x8 AVX transposes (24 shuffles per 64 floats; 2x2 tiles: 4x4 ones);
/// one float at a time they cost more than the GEMM on 16-channel layers. Partial channel blocks and edge tiles go one
/// float at a time.
/// </summary>
internal static unsafe class ConvolutionWinogradLayout
{
    private const int L = ConvolutionWinograd.Lanes;

    // Padded rows [r0, r1) of one image (C, H, W) into input (Cp/16, Hp, Wp, 16): channel blocks interleaved per pixel,
    // zero in the borders and in channels past C.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyRows(in WinogradPlan p, int width, float* image, float* input, int r0, int r1)
    {
        int w = p.W, wp = p.Wp, pw = p.PadW;
        bool avx = SimdWidth.AllowsAvx(width);
        for (int cb = 0; cb < p.Cp / L; cb++)
            for (int r = r0; r < r1; r++)
            {
                float* dst = input + ((long)cb * p.Hp + r) * wp * L;
                int h = r - p.PadH;
                if (h < 0 || h >= p.H)
                {
                    new Span<float>(dst, wp * L).Clear();
                    continue;
                }
                new Span<float>(dst, pw * L).Clear();
                new Span<float>(dst + (pw + w) * L, (wp - pw - w) * L).Clear();
                float* inside = dst + pw * L, src = image + ((long)cb * L * p.H + h) * w;
                long plane = (long)p.H * w;
                int j = 0;
                if (avx && cb * L + L <= p.C)
                    for (; j + 8 <= w; j += 8)
                    {
                        Transpose8x8.Block(src + j, plane, inside + j * L, L);
                        Transpose8x8.Block(src + 8 * plane + j, plane, inside + j * L + 8, L);
                    }
                for (int l = 0; l < L; l++)
                {
                    int c = cb * L + l;
                    float* s = src + l * plane;
                    if (c >= p.C) for (int jj = j; jj < w; jj++) inside[jj * L + l] = 0f;
                    else for (int jj = j; jj < w; jj++) inside[jj * L + l] = s[jj];
                }
            }
    }

    // pixels: (16 pixels of a 4x4 tile, 16 channels); y: channel 0's plane at the tile's corner, planes `plane` apart,
    // rows `ow` apart. Writes channels [0, channels), the tile's first outRows rows and outCols columns.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WriteTile(int width, float* pixels, float* y, long plane, int ow, int channels, int outRows, int outCols)
    {
        if (SimdWidth.AllowsAvx(width) && channels == L && outRows == 4 && outCols == 4)
        {
            for (int half = 0; half < 2; half++)          // output rows 0-1, then 2-3
                for (int group = 0; group < 2; group++)   // channels 0-7, then 8-15
                    WriteRows(pixels + half * 8 * L + group * 8, y + group * 8 * plane + half * 2 * ow, plane, ow);
            return;
        }
        WriteScalar(4, pixels, y, plane, ow, channels, outRows, outCols);
    }

    // As WriteTile for a 2x2 tile: pixels (4 pixels, 16 channels).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WriteTile2x2(int width, float* pixels, float* y, long plane, int ow, int channels, int outRows, int outCols)
    {
        if (SimdWidth.AllowsAvx(width) && channels == L && outRows == 2 && outCols == 2)
        {
            // Four channels at a time: their values at the 4 pixels transposed so each channel's row is 2 adjacent floats.
            for (int group = 0; group < L; group += 4, y += 4 * plane)
            {
                Vector128<float> p0 = Vector128.Load(pixels + group), p1 = Vector128.Load(pixels + L + group);
                Vector128<float> p2 = Vector128.Load(pixels + 2 * L + group), p3 = Vector128.Load(pixels + 3 * L + group);
                Vector128<float> top01 = Sse.UnpackLow(p0, p1), top23 = Sse.UnpackHigh(p0, p1);
                Vector128<float> bottom01 = Sse.UnpackLow(p2, p3), bottom23 = Sse.UnpackHigh(p2, p3);
                Sse.StoreLow(y, top01); Sse.StoreLow(y + ow, bottom01);
                Sse.StoreHigh(y + plane, top01); Sse.StoreHigh(y + plane + ow, bottom01);
                Sse.StoreLow(y + 2 * plane, top23); Sse.StoreLow(y + 2 * plane + ow, bottom23);
                Sse.StoreHigh(y + 3 * plane, top23); Sse.StoreHigh(y + 3 * plane + ow, bottom23);
            }
            return;
        }
        WriteScalar(2, pixels, y, plane, ow, channels, outRows, outCols);
    }

    // One float at a time: pixels (step x step pixels, 16 channels).
    private static void WriteScalar(int step, float* pixels, float* y, long plane, int ow, int channels, int outRows, int outCols)
    {
        for (int l = 0; l < channels; l++, y += plane)
            for (int r = 0; r < outRows; r++)
                for (int col = 0; col < outCols; col++) y[r * ow + col] = pixels[(r * step + col) * L + l];
    }

    // src: 8 pixels (two output rows of 4), 8 channels each, 16 floats apart -> for each channel l, its two rows of 4 at
    // dst + l * plane and dst + l * plane + ow.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRows(float* src, float* dst, long plane, int ow)
    {
        Vector256<float> r0 = Vector256.Load(src), r1 = Vector256.Load(src + L), r2 = Vector256.Load(src + 2 * L), r3 = Vector256.Load(src + 3 * L);
        Vector256<float> r4 = Vector256.Load(src + 4 * L), r5 = Vector256.Load(src + 5 * L), r6 = Vector256.Load(src + 6 * L), r7 = Vector256.Load(src + 7 * L);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        // Channel l's 8 values: pixels 0-3 (row 0) from u(l%4) and pixels 4-7 (row 1) from u(l%4 + 4), lower halves for
        // channels 0-3, upper for 4-7.
        Store(u0, u4, false, dst, ow); Store(u1, u5, false, dst + plane, ow); Store(u2, u6, false, dst + 2 * plane, ow); Store(u3, u7, false, dst + 3 * plane, ow);
        Store(u0, u4, true, dst + 4 * plane, ow); Store(u1, u5, true, dst + 5 * plane, ow); Store(u2, u6, true, dst + 6 * plane, ow); Store(u3, u7, true, dst + 7 * plane, ow);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> first, Vector256<float> second, bool upper, float* dst, int ow)
    {
        (upper ? first.GetUpper() : first.GetLower()).Store(dst);
        (upper ? second.GetUpper() : second.GetLower()).Store(dst + ow);
    }
}
