using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The layout changes around <see cref="ConvolutionWinograd"/>'s transforms, which carry 16 channels per pixel: input
/// rows from (C, H, W) planes into channel-blocked rows, and runs of 4x4 output tiles from (pixel, channel) blocks back
/// into the (K, OH, OW) planes. Both go through 8x8 AVX transposes (24 shuffles per 64 floats;
/// the input rows 16x16 AVX-512 ones where the hardware has them, one 64-byte store per pixel);
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
        int w = p.W;
        bool avx = SimdWidth.AllowsAvx(width), avx512 = SimdWidth.AllowsAvx512F(width);
        for (int cb = 0; cb < p.Cp / L; cb++)
            for (int r = r0; r < r1; r++)
            {
                float* inside = RowInside(p, input, cb, r, out int h);
                if (inside == null) continue;
                float* src = image + ((long)cb * L * p.H + h) * w;
                long plane = (long)p.H * w;
                int j = 0;
                if (avx512 && cb * L + L <= p.C)
                {
                    // 16 pixels at a time: each pixel's 16 channels one 64-byte store, each source line read whole.
                    for (; j + 16 <= w; j += 16) Transpose16.Block16x16(src + j, plane, inside + j * L, L);
                }
                if (avx && cb * L + L <= p.C)
                {
                    // Channels 0-7 along the row, then 8-15 (as WriteRun: 16 planes' lines would not fit one L1 set).
                    int from = j;
                    for (; j + 8 <= w; j += 8) Transpose8x8.Block(src + j, plane, inside + j * L, L);
                    for (int jj = from; jj < j; jj += 8) Transpose8x8.Block(src + 8 * plane + jj, plane, inside + jj * L + 8, L);
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

    // Padded rows [r0, r1) of one image already in 16-channel pixels, (C/16, H, W, 16), into input (C/16, Hp, Wp, 16): a
    // copy of each row between zero borders (C a multiple of 16).
    public static void CopyBlockedRows(in WinogradPlan p, float* image, float* input, int r0, int r1)
    {
        int w = p.W;
        for (int cb = 0; cb < p.Cp / L; cb++)
            for (int r = r0; r < r1; r++)
            {
                float* inside = RowInside(p, input, cb, r, out int h);
                if (inside != null) new ReadOnlySpan<float>(image + ((long)cb * p.H + h) * w * L, w * L).CopyTo(new Span<float>(inside, w * L));
            }
    }

    // Padded row r of channel block cb in input: cleared whole where it is a padding row (null returned), else its
    // borders cleared; returns where the image row h's W pixels go.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* RowInside(in WinogradPlan p, float* input, int cb, int r, out int h)
    {
        int w = p.W, wp = p.Wp, pw = p.PadW;
        float* dst = input + ((long)cb * p.Hp + r) * wp * L;
        h = r - p.PadH;
        if (h < 0 || h >= p.H)
        {
            new Span<float>(dst, wp * L).Clear();
            return null;
        }
        new Span<float>(dst, pw * L).Clear();
        new Span<float>(dst + (pw + w) * L, (wp - pw - w) * L).Clear();
        return dst + pw * L;
    }

    // A run's rows of 16-channel pixels (row r from pixels + r * rowStride) into y's 16-channel pixels (row r from
    // y + r * yRowStride), cols pixels each: a copy.
    public static void WriteBlockedRun(float* pixels, int rowStride, float* y, long yRowStride, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<float>(pixels + (long)r * rowStride, cols * L).CopyTo(new Span<float>(y + r * yRowStride, cols * L));
    }

    // pixels: rows*cols pixels of 16 channels, row r's pixels from pixels + r * rowStride; y: channel 0's plane at the run's
    // corner, planes `plane` apart, rows `ow` apart. Writes channels [0, channels): each channel's row segment whole,
    // 8 columns at a time through 8x8 transposes.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WriteRun(int width, float* pixels, int rowStride, float* y, long plane, int ow, int channels, int rows, int cols)
    {
        int whole = SimdWidth.AllowsAvx(width) && channels == L ? cols / 8 * 8 : 0;
        int sixteens = SimdWidth.AllowsAvx512F(width) && channels == L ? cols / 16 * 16 : 0;
        for (int r = 0; r < rows; r++)
        {
            float* src = pixels + (long)r * rowStride, dst = y + (long)r * ow;
            // AVX-512: 16 pixels at a time, each channel's 16 one 64-byte store (a whole line, written once).
            for (int j = 0; j < sixteens; j += 16) Transpose16.Block16x16(src + j * L, L, dst + j, plane);
            // Channels 0-7 along the rest of the segment, then 8-15: 8 planes' lines at a time share an L1 set, 16 would not fit.
            for (int j = sixteens; j < whole; j += 8) Transpose8x8.Block(src + j * L, L, dst + j, plane);
            for (int j = sixteens; j < whole; j += 8) Transpose8x8.Block(src + j * L + 8, L, dst + 8 * plane + j, plane);
            for (int l = 0; l < channels; l++)
                for (int j = whole; j < cols; j++) dst[l * plane + j] = src[j * L + l];
        }
    }
}

/// <summary>
/// Prefetches the next image while the transforms work on this one's tiles, a slice per tile, so the layout copy of the
/// next image (<see cref="ConvolutionWinogradLayout.CopyRows"/>) finds it in L1 rather than waiting on L3 or memory. Only
/// for small images: 8K floats (32 KB) per tensor or fewer. ResNet-20 at batch 128, 1 thread, CPU time against no
/// prefetch: 32x32x16 16x16 weight gradient 0.75-0.76x, forward 0.87x; 64x64 8x8 weight gradient 0.86x; at 16x32x32
/// (64 KB per image) it made the weight gradient 2-8% slower (the prefetched lines evict the copied rows from L1).
/// </summary>
internal static unsafe class WinogradPrefetch
{
    public const long MaxImage = 8192;

    // Part `part` of `parts` of [start, start + length) floats into L1, one prefetch per 64-byte line.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Slice(float* start, long length, int part, int parts)
    {
        long lines = (length + 15) / 16, a = lines * part / parts, b = lines * (part + 1) / parts;
        for (long i = a; i < b; i++) Sse.Prefetch0(start + i * 16);
    }
}
