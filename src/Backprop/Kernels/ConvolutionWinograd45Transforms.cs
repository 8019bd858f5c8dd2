using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// F(4x4, 5x5)'s transforms: V = B^T d B of an 8x8 patch and y = A^T M A of its 64 products for the forward
/// (<see cref="ConvolutionWinogradTransforms.Blocks"/>), and W = A dY A^T of a 4x4 block of dy for the weight gradient, 16 channels in the lanes (one Vector512, or two Vector256 halves
/// computed alike), along rows into a small scratch and then along columns, as the 6x6 transforms. The points are 0,
/// ±1, ±2, ±1/2 and infinity; B^T's first row is negated (and G's with it, <see cref="ConvolutionWinograd"/>) so that
/// it reads d0 - d6 + 21/4 (d4 - d2).
/// </summary>
internal static unsafe class ConvolutionWinograd45Transforms
{
    private const int L = ConvolutionWinograd.Lanes;

    // d: the tile's 8x8 patch of 16-channel pixels (row stride rowStride floats); v: position pos's 16 channels at
    // v + pos * posStride; scratch: 64 x 16 floats.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void InputTile512(float* d, int rowStride, float* v, long posStride, float* scratch)
    {
        for (int i = 0; i < 8; i++, d += rowStride)
            InputLine(Vector512.Load(d), Vector512.Load(d + L), Vector512.Load(d + 2 * L), Vector512.Load(d + 3 * L),
                Vector512.Load(d + 4 * L), Vector512.Load(d + 5 * L), Vector512.Load(d + 6 * L), Vector512.Load(d + 7 * L), scratch + i * 8 * L, L);
        for (int j = 0; j < 8; j++)
        {
            float* s = scratch + j * L;
            InputLine(Vector512.Load(s), Vector512.Load(s + 8 * L), Vector512.Load(s + 16 * L), Vector512.Load(s + 24 * L),
                Vector512.Load(s + 32 * L), Vector512.Load(s + 40 * L), Vector512.Load(s + 48 * L), Vector512.Load(s + 56 * L), v + j * posStride, 8 * posStride);
        }
    }

    // The AVX2 form: 8 channels of the 16 (the caller runs both halves).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void InputTile256(float* d, int rowStride, float* v, long posStride, float* scratch)
    {
        for (int i = 0; i < 8; i++, d += rowStride)
            InputLine(Vector256.Load(d), Vector256.Load(d + L), Vector256.Load(d + 2 * L), Vector256.Load(d + 3 * L),
                Vector256.Load(d + 4 * L), Vector256.Load(d + 5 * L), Vector256.Load(d + 6 * L), Vector256.Load(d + 7 * L), scratch + i * 8 * L, L);
        for (int j = 0; j < 8; j++)
        {
            float* s = scratch + j * L;
            InputLine(Vector256.Load(s), Vector256.Load(s + 8 * L), Vector256.Load(s + 16 * L), Vector256.Load(s + 24 * L),
                Vector256.Load(s + 32 * L), Vector256.Load(s + 40 * L), Vector256.Load(s + 48 * L), Vector256.Load(s + 56 * L), v + j * posStride, 8 * posStride);
        }
    }

    // B^T (d0..d7), stored at o, o + stride, ... o + 7 * stride:
    // [1 0 -21/4 0 21/4 0 -1 0; 0 1 1 -17/4 -17/4 1 1 0; 0 -1 1 17/4 -17/4 -1 1 0; 0 1/2 1/4 -5/2 -5/4 2 1 0;
    //  0 -1/2 1/4 5/2 -5/4 -2 1 0; 0 2 4 -5/2 -5 1/2 1 0; 0 -2 4 5/2 -5 -1/2 1 0; 0 -1 0 21/4 0 -21/4 0 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputLine(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3,
        Vector512<float> d4, Vector512<float> d5, Vector512<float> d6, Vector512<float> d7, float* o, long stride)
    {
        Vector512<float> c21 = Vector512.Create(5.25f), c17 = Vector512.Create(-4.25f), c5 = Vector512.Create(-5f), c25 = Vector512.Create(-2.5f);
        Vector512.FusedMultiplyAdd(c21, d4 - d2, d0 - d6).Store(o);
        Vector512<float> a = Vector512.FusedMultiplyAdd(c17, d4, d2 + d6), b = Vector512.FusedMultiplyAdd(c17, d3, d1 + d5);
        (a + b).Store(o + stride);
        (a - b).Store(o + 2 * stride);
        a = Vector512.FusedMultiplyAdd(Vector512.Create(0.25f), d2, Vector512.FusedMultiplyAdd(Vector512.Create(-1.25f), d4, d6));
        b = Vector512.FusedMultiplyAdd(Vector512.Create(0.5f), d1, Vector512.FusedMultiplyAdd(c25, d3, d5 + d5));
        (a + b).Store(o + 3 * stride);
        (a - b).Store(o + 4 * stride);
        a = Vector512.FusedMultiplyAdd(Vector512.Create(4f), d2, Vector512.FusedMultiplyAdd(c5, d4, d6));
        b = Vector512.FusedMultiplyAdd(Vector512.Create(0.5f), d5, Vector512.FusedMultiplyAdd(c25, d3, d1 + d1));
        (a + b).Store(o + 5 * stride);
        (a - b).Store(o + 6 * stride);
        Vector512.FusedMultiplyAdd(c21, d3 - d5, d7 - d1).Store(o + 7 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputLine(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3,
        Vector256<float> d4, Vector256<float> d5, Vector256<float> d6, Vector256<float> d7, float* o, long stride)
    {
        Vector256<float> c21 = Vector256.Create(5.25f), c17 = Vector256.Create(-4.25f), c5 = Vector256.Create(-5f), c25 = Vector256.Create(-2.5f);
        Vector256.FusedMultiplyAdd(c21, d4 - d2, d0 - d6).Store(o);
        Vector256<float> a = Vector256.FusedMultiplyAdd(c17, d4, d2 + d6), b = Vector256.FusedMultiplyAdd(c17, d3, d1 + d5);
        (a + b).Store(o + stride);
        (a - b).Store(o + 2 * stride);
        a = Vector256.FusedMultiplyAdd(Vector256.Create(0.25f), d2, Vector256.FusedMultiplyAdd(Vector256.Create(-1.25f), d4, d6));
        b = Vector256.FusedMultiplyAdd(Vector256.Create(0.5f), d1, Vector256.FusedMultiplyAdd(c25, d3, d5 + d5));
        (a + b).Store(o + 3 * stride);
        (a - b).Store(o + 4 * stride);
        a = Vector256.FusedMultiplyAdd(Vector256.Create(4f), d2, Vector256.FusedMultiplyAdd(c5, d4, d6));
        b = Vector256.FusedMultiplyAdd(Vector256.Create(0.5f), d5, Vector256.FusedMultiplyAdd(c25, d3, d1 + d1));
        (a + b).Store(o + 5 * stride);
        (a - b).Store(o + 6 * stride);
        Vector256.FusedMultiplyAdd(c21, d3 - d5, d7 - d1).Store(o + 7 * stride);
    }

    // m: position pos's 16 channels at m + pos * posStride; pixels: the 4x4 tile's (pixel, 16 channels) rows, row r from
    // pixels + r * rowStride, overwritten with A^T M A + bias, then max(., 0) with ReluForward's bits when relu;
    // scratch: 32 x 16 floats.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void OutputTile512(float* m, long posStride, float* bias, bool relu, float* scratch, float* pixels, int rowStride)
    {
        for (int a = 0; a < 8; a++)
        {
            float* s = m + 8 * a * posStride;
            OutputLine(Vector512.Load(s), Vector512.Load(s + posStride), Vector512.Load(s + 2 * posStride), Vector512.Load(s + 3 * posStride),
                Vector512.Load(s + 4 * posStride), Vector512.Load(s + 5 * posStride), Vector512.Load(s + 6 * posStride), Vector512.Load(s + 7 * posStride),
                out var o0, out var o1, out var o2, out var o3);
            o0.Store(scratch + (a * 4) * L); o1.Store(scratch + (a * 4 + 1) * L); o2.Store(scratch + (a * 4 + 2) * L); o3.Store(scratch + (a * 4 + 3) * L);
        }
        Vector512<float> b = Vector512.Load(bias);
        for (int q = 0; q < 4; q++)
        {
            float* s = scratch + q * L;
            OutputLine(Vector512.Load(s), Vector512.Load(s + 4 * L), Vector512.Load(s + 8 * L), Vector512.Load(s + 12 * L),
                Vector512.Load(s + 16 * L), Vector512.Load(s + 20 * L), Vector512.Load(s + 24 * L), Vector512.Load(s + 28 * L),
                out var o0, out var o1, out var o2, out var o3);
            ConvolutionWinogradTransforms.Finish(o0 + b, relu).Store(pixels + q * L);
            ConvolutionWinogradTransforms.Finish(o1 + b, relu).Store(pixels + rowStride + q * L);
            ConvolutionWinogradTransforms.Finish(o2 + b, relu).Store(pixels + 2 * rowStride + q * L);
            ConvolutionWinogradTransforms.Finish(o3 + b, relu).Store(pixels + 3 * rowStride + q * L);
        }
    }

    // The AVX2 form: 8 channels of the 16 (the caller runs both halves).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void OutputTile256(float* m, long posStride, float* bias, bool relu, float* scratch, float* pixels, int rowStride)
    {
        for (int a = 0; a < 8; a++)
        {
            float* s = m + 8 * a * posStride;
            OutputLine(Vector256.Load(s), Vector256.Load(s + posStride), Vector256.Load(s + 2 * posStride), Vector256.Load(s + 3 * posStride),
                Vector256.Load(s + 4 * posStride), Vector256.Load(s + 5 * posStride), Vector256.Load(s + 6 * posStride), Vector256.Load(s + 7 * posStride),
                out var o0, out var o1, out var o2, out var o3);
            o0.Store(scratch + (a * 4) * L); o1.Store(scratch + (a * 4 + 1) * L); o2.Store(scratch + (a * 4 + 2) * L); o3.Store(scratch + (a * 4 + 3) * L);
        }
        Vector256<float> b = Vector256.Load(bias);
        for (int q = 0; q < 4; q++)
        {
            float* s = scratch + q * L;
            OutputLine(Vector256.Load(s), Vector256.Load(s + 4 * L), Vector256.Load(s + 8 * L), Vector256.Load(s + 12 * L),
                Vector256.Load(s + 16 * L), Vector256.Load(s + 20 * L), Vector256.Load(s + 24 * L), Vector256.Load(s + 28 * L),
                out var o0, out var o1, out var o2, out var o3);
            ConvolutionWinogradTransforms.Finish(o0 + b, relu).Store(pixels + q * L);
            ConvolutionWinogradTransforms.Finish(o1 + b, relu).Store(pixels + rowStride + q * L);
            ConvolutionWinogradTransforms.Finish(o2 + b, relu).Store(pixels + 2 * rowStride + q * L);
            ConvolutionWinogradTransforms.Finish(o3 + b, relu).Store(pixels + 3 * rowStride + q * L);
        }
    }

    // A^T (m0..m7): [1 1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 -1/2 0; 0 1 1 4 4 1/4 1/4 0; 0 1 -1 8 -8 1/8 -1/8 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputLine(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4,
        Vector512<float> m5, Vector512<float> m6, Vector512<float> m7, out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2,
        out Vector512<float> o3)
    {
        Vector512<float> s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4, s56 = m5 + m6, d56 = m5 - m6;
        o0 = m0 + s12 + s34 + s56;
        o1 = Vector512.FusedMultiplyAdd(Vector512.Create(0.5f), d56, Vector512.FusedMultiplyAdd(Vector512.Create(2f), d34, d12));
        o2 = Vector512.FusedMultiplyAdd(Vector512.Create(0.25f), s56, Vector512.FusedMultiplyAdd(Vector512.Create(4f), s34, s12));
        o3 = Vector512.FusedMultiplyAdd(Vector512.Create(0.125f), d56, Vector512.FusedMultiplyAdd(Vector512.Create(8f), d34, d12)) + m7;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputLine(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4,
        Vector256<float> m5, Vector256<float> m6, Vector256<float> m7, out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2,
        out Vector256<float> o3)
    {
        Vector256<float> s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4, s56 = m5 + m6, d56 = m5 - m6;
        o0 = m0 + s12 + s34 + s56;
        o1 = Vector256.FusedMultiplyAdd(Vector256.Create(0.5f), d56, Vector256.FusedMultiplyAdd(Vector256.Create(2f), d34, d12));
        o2 = Vector256.FusedMultiplyAdd(Vector256.Create(0.25f), s56, Vector256.FusedMultiplyAdd(Vector256.Create(4f), s34, s12));
        o3 = Vector256.FusedMultiplyAdd(Vector256.Create(0.125f), d56, Vector256.FusedMultiplyAdd(Vector256.Create(8f), d34, d12)) + m7;
    }

    // The weight gradient's dy transform W = A dY A^T (ConvolutionWinogradWeightGradientTransforms): e is the tile's 4x4
    // block of 16-channel dy pixels (rows rowStride floats apart); w: position pos's channels at w + pos * posStride;
    // scratch: 32 x 16 floats.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DyTile512(float* e, int rowStride, float* w, long posStride, float* scratch)
    {
        for (int i = 0; i < 4; i++, e += rowStride)
            DyLine(Vector512.Load(e), Vector512.Load(e + L), Vector512.Load(e + 2 * L), Vector512.Load(e + 3 * L), scratch + i * 8 * L, L);
        for (int j = 0; j < 8; j++)
        {
            float* s = scratch + j * L;
            DyLine(Vector512.Load(s), Vector512.Load(s + 8 * L), Vector512.Load(s + 16 * L), Vector512.Load(s + 24 * L), w + j * posStride, 8 * posStride);
        }
    }

    // The AVX2 form: 8 channels of the 16 (the caller runs both halves).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DyTile256(float* e, int rowStride, float* w, long posStride, float* scratch)
    {
        for (int i = 0; i < 4; i++, e += rowStride)
            DyLine(Vector256.Load(e), Vector256.Load(e + L), Vector256.Load(e + 2 * L), Vector256.Load(e + 3 * L), scratch + i * 8 * L, L);
        for (int j = 0; j < 8; j++)
        {
            float* s = scratch + j * L;
            DyLine(Vector256.Load(s), Vector256.Load(s + 8 * L), Vector256.Load(s + 16 * L), Vector256.Load(s + 24 * L), w + j * posStride, 8 * posStride);
        }
    }

    // A (d0..d3), the adjoint of A^T, stored at o, o + stride, ... o + 7 * stride:
    // A = [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 1 -2 4 -8; 1 1/2 1/4 1/8; 1 -1/2 1/4 -1/8; 0 0 0 1]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DyLine(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, float* o, long stride)
    {
        Vector512<float> even = d0 + d2, odd = d1 + d3;
        Vector512<float> even4 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), d2, d0), odd4 = Vector512.FusedMultiplyAdd(Vector512.Create(8f), d3, d1 + d1);
        Vector512<float> evenQ = Vector512.FusedMultiplyAdd(Vector512.Create(0.25f), d2, d0);
        Vector512<float> oddQ = Vector512.FusedMultiplyAdd(Vector512.Create(0.125f), d3, d1 * Vector512.Create(0.5f));
        d0.Store(o);
        (even + odd).Store(o + stride);
        (even - odd).Store(o + 2 * stride);
        (even4 + odd4).Store(o + 3 * stride);
        (even4 - odd4).Store(o + 4 * stride);
        (evenQ + oddQ).Store(o + 5 * stride);
        (evenQ - oddQ).Store(o + 6 * stride);
        d3.Store(o + 7 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DyLine(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, float* o, long stride)
    {
        Vector256<float> even = d0 + d2, odd = d1 + d3;
        Vector256<float> even4 = Vector256.FusedMultiplyAdd(Vector256.Create(4f), d2, d0), odd4 = Vector256.FusedMultiplyAdd(Vector256.Create(8f), d3, d1 + d1);
        Vector256<float> evenQ = Vector256.FusedMultiplyAdd(Vector256.Create(0.25f), d2, d0);
        Vector256<float> oddQ = Vector256.FusedMultiplyAdd(Vector256.Create(0.125f), d3, d1 * Vector256.Create(0.5f));
        d0.Store(o);
        (even + odd).Store(o + stride);
        (even - odd).Store(o + 2 * stride);
        (even4 + odd4).Store(o + 3 * stride);
        (even4 - odd4).Store(o + 4 * stride);
        (evenQ + oddQ).Store(o + 5 * stride);
        (evenQ - oddQ).Store(o + 6 * stride);
        d3.Store(o + 7 * stride);
    }
}
