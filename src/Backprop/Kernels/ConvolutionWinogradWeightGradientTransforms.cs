using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The per-block transforms of <see cref="ConvolutionWinogradWeightGradient"/>: the rows a block of tiles reads, of x and
/// of dy, copied channel-blocked (16 channels per pixel, borders zero; <see cref="ConvolutionWinogradLayout.CopyRows"/>),
/// then for each tile the input transform V = B^T d B (the forward's, d its 6x6 or 8x8 input patch) and the dy transform
/// W = A dY A^T (dY its 4x4 block of dy, zero past the output's edge; F(4x4, 5x5)'s in <see cref="ConvolutionWinograd45Transforms"/>),
/// 16 channels in the lanes (one Vector512, or two
/// Vector256 halves computed alike). Each 2-D transform is the 1-D one along rows into a small scratch, then along columns.
/// </summary>
internal static unsafe class ConvolutionWinogradWeightGradientTransforms
{
    private const int L = ConvolutionWinograd.Lanes;

    /// <summary>
    /// Tiles [t0, t0 + count) into rows [0, count) of v (positions, blockTiles, Cp) and w (positions, blockTiles, Kp), their
    /// positions <see cref="WinogradPlan.PositionStride"/> apart. p plans
    /// x; dp plans dy as an input padded by pad = (r - 1) / 2 with the same tiles, so tile (tr, tc)'s dy block starts at
    /// padded (4 tr + pad, 4 tc + pad): (4tr + 1, 4tc + 1) for 3x3, (4tr + 2, 4tc + 2) for 5x5.
    /// input: (Cp/16, Hp, Wp, 16) and dyInput: (Kp/16, Hp, Wp, 16) scratch images; scratch: positions x 16 floats.
    /// </summary>
    // x: (N, C, H, W); dy: (N, K, OH, OW)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(in WinogradPlan p, in WinogradPlan dp, int width, int t0, int count, float* x, float* dy,
        float* input, float* dyInput, int blockTiles, float* v, float* w, float* scratch)
    {
        int cb = p.Cp / L, kb = p.Kp / L, rowStride = p.Wp * L, step = p.Step, pad = (p.Kernel - 1) / 2;
        bool wide = p.Patch == 8;   // F(4x4, 5x5)
        long imageLength = (long)p.C * p.H * p.W, dyImageLength = (long)p.K * p.OH * p.OW, plane = (long)p.Hp * p.Wp * L;
        long vPos = WinogradPlan.PositionStride(blockTiles, p.Cp), wPos = WinogradPlan.PositionStride(blockTiles, p.Kp);
        for (int t = t0; t < t0 + count;)
        {
            int n = t / p.TilesPerImage, first = t % p.TilesPerImage, last = Math.Min(p.TilesPerImage, first + t0 + count - t);
            int firstRow = first / p.TilesW, lastRow = (last - 1) / p.TilesW;
            ConvolutionWinogradLayout.CopyRows(p, width, x + n * imageLength, input, step * firstRow, step * lastRow + p.Patch);
            ConvolutionWinogradLayout.CopyRows(dp, width, dy + n * dyImageLength, dyInput, step * firstRow + pad, step * lastRow + pad + step);
            bool prefetch = Sse.IsSupported && imageLength <= WinogradPrefetch.MaxImage && dyImageLength <= WinogradPrefetch.MaxImage
                && n + 1 < p.Tiles / p.TilesPerImage;
            for (int q = first; q < last; q++)
            {
                if (prefetch)
                {
                    // The next image's x and dy, a slice per tile, while this image's tiles are transformed.
                    WinogradPrefetch.Slice(x + (n + 1) * imageLength, imageLength, q - first, last - first);
                    WinogradPrefetch.Slice(dy + (n + 1) * dyImageLength, dyImageLength, q - first, last - first);
                }
                int row = t - t0 + q - first, tr = q / p.TilesW, tc = q % p.TilesW;
                float* d = input + ((long)step * tr * p.Wp + step * tc) * L;
                for (int c = 0; c < cb; c++)
                {
                    float* src = d + c * plane, dst = v + (long)row * p.Cp + c * L;
                    if (width >= 512)
                    {
                        if (wide) ConvolutionWinograd45Transforms.InputTile512(src, rowStride, dst, vPos, scratch);
                        else ConvolutionWinogradTransforms.InputTile512(src, rowStride, dst, vPos, scratch);
                    }
                    else if (wide)
                    {
                        ConvolutionWinograd45Transforms.InputTile256(src, rowStride, dst, vPos, scratch);
                        ConvolutionWinograd45Transforms.InputTile256(src + 8, rowStride, dst + 8, vPos, scratch);
                    }
                    else
                    {
                        ConvolutionWinogradTransforms.InputTile256(src, rowStride, dst, vPos, scratch);
                        ConvolutionWinogradTransforms.InputTile256(src + 8, rowStride, dst + 8, vPos, scratch);
                    }
                }
                float* e = dyInput + ((long)(step * tr + pad) * p.Wp + step * tc + pad) * L;
                for (int k = 0; k < kb; k++)
                {
                    float* src = e + k * plane, dst = w + (long)row * p.Kp + k * L;
                    if (wide)
                    {
                        if (width >= 512) ConvolutionWinograd45Transforms.DyTile512(src, rowStride, dst, wPos, scratch);
                        else
                        {
                            ConvolutionWinograd45Transforms.DyTile256(src, rowStride, dst, wPos, scratch);
                            ConvolutionWinograd45Transforms.DyTile256(src + 8, rowStride, dst + 8, wPos, scratch);
                        }
                    }
                    else if (width >= 512) DyTile512(src, rowStride, dst, wPos, scratch);
                    else
                    {
                        DyTile256(src, rowStride, dst, wPos, scratch);
                        DyTile256(src + 8, rowStride, dst + 8, wPos, scratch);
                    }
                }
            }
            t += last - first;
        }
    }

    // e: the tile's 4x4 block of 16-channel dy pixels (rows rowStride floats apart); w: position pos's channels at w + pos * posStride.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DyTile512(float* e, int rowStride, float* w, long posStride, float* scratch)
    {
        for (int i = 0; i < 4; i++, e += rowStride)
            DyLine(Vector512.Load(e), Vector512.Load(e + L), Vector512.Load(e + 2 * L), Vector512.Load(e + 3 * L), scratch + i * 6 * L, L);
        for (int j = 0; j < 6; j++)
        {
            float* s = scratch + j * L;
            DyLine(Vector512.Load(s), Vector512.Load(s + 6 * L), Vector512.Load(s + 12 * L), Vector512.Load(s + 18 * L), w + j * posStride, 6 * posStride);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DyTile256(float* e, int rowStride, float* w, long posStride, float* scratch)
    {
        for (int i = 0; i < 4; i++, e += rowStride)
            DyLine(Vector256.Load(e), Vector256.Load(e + L), Vector256.Load(e + 2 * L), Vector256.Load(e + 3 * L), scratch + i * 6 * L, L);
        for (int j = 0; j < 6; j++)
        {
            float* s = scratch + j * L;
            DyLine(Vector256.Load(s), Vector256.Load(s + 6 * L), Vector256.Load(s + 12 * L), Vector256.Load(s + 18 * L), w + j * posStride, 6 * posStride);
        }
    }

    // A (d0..d3), the adjoint of the forward's output transform A^T, stored at o, o + stride, ... o + 5 * stride:
    // A = [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 1 -2 4 -8; 0 0 0 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DyLine(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, float* o, long stride)
    {
        Vector512<float> even = d0 + d2, odd = d1 + d3;
        Vector512<float> even4 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), d2, d0), odd4 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), d3, d1);
        Vector512<float> two = Vector512.Create(2f);
        d0.Store(o);
        (even + odd).Store(o + stride);
        (even - odd).Store(o + 2 * stride);
        Vector512.FusedMultiplyAdd(two, odd4, even4).Store(o + 3 * stride);
        Vector512.FusedMultiplyAdd(-two, odd4, even4).Store(o + 4 * stride);
        d3.Store(o + 5 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DyLine(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, float* o, long stride)
    {
        Vector256<float> even = d0 + d2, odd = d1 + d3;
        Vector256<float> even4 = Vector256.FusedMultiplyAdd(Vector256.Create(4f), d2, d0), odd4 = Vector256.FusedMultiplyAdd(Vector256.Create(4f), d3, d1);
        Vector256<float> two = Vector256.Create(2f);
        d0.Store(o);
        (even + odd).Store(o + stride);
        (even - odd).Store(o + 2 * stride);
        Vector256.FusedMultiplyAdd(two, odd4, even4).Store(o + 3 * stride);
        Vector256.FusedMultiplyAdd(-two, odd4, even4).Store(o + 4 * stride);
        d3.Store(o + 5 * stride);
    }
}
