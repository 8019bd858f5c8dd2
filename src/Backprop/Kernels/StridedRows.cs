using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Row moves for stride-2 convolutions: every second float of a row gathered into a dense run (phase planes,
/// subsampled images), and a dense run spread back onto the even positions of a row with zeros between (the
/// backward-data of a subsampling). With AVX-512 or AVX2 two loads and one or two permutes per vector of output, where
/// one load and store per float cost the stride-2 phase-plane copy a large part of a 16-channel layer's forward.
/// Both only move floats: the same bits at any width.
/// </summary>
internal static unsafe class StridedRows
{
    private static readonly Vector512<int> EvenOf32 = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> SpreadLow = Vector512.Create(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16);
    private static readonly Vector512<int> SpreadHigh = Vector512.Create(8, 16, 9, 16, 10, 16, 11, 16, 12, 16, 13, 16, 14, 16, 15, 16);
    private static readonly Vector256<int> EvenLow = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
    private static readonly Vector256<int> OddHigh = Vector256.Create(1, 3, 5, 7, 1, 3, 5, 7);

    /// <summary>d[j] = s[2j] for j &lt; count; reads s[0 .. 2*count - 2] only (never the float after the last one taken).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GatherEven(int width, float* s, float* d, int count)
    {
        int j = 0;
        if (SimdWidth.AllowsAvx512F(width))
        {
            // Floats 2j .. 2j+15 and 2j+15 .. 2j+30: the second load starts one float early, so it ends on the last one taken.
            for (; j + 16 <= count; j += 16)
                Avx512F.PermuteVar16x32x2(Vector512.Load(s + 2 * j), EvenOf32, Vector512.Load(s + 2 * j + 15)).Store(d + j);
        }
        if (SimdWidth.AllowsAvx(width) && Avx2.IsSupported)
        {
            for (; j + 8 <= count; j += 8)
            {
                Vector256<float> low = Avx2.PermuteVar8x32(Vector256.Load(s + 2 * j), EvenLow);
                Vector256<float> high = Avx2.PermuteVar8x32(Vector256.Load(s + 2 * j + 7), OddHigh);
                Avx.Blend(low, high, 0xF0).Store(d + j);
            }
        }
        for (; j < count; j++) d[j] = s[2 * j];
    }

    /// <summary>d[2j] = s[j] for j &lt; count and every other d[i] (i &lt; length) zero; needs 2*count - 1 &lt;= length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SpreadEven(int width, float* s, float* d, int count, int length)
    {
        int j = 0;
        if (SimdWidth.AllowsAvx512F(width))
        {
            for (; j + 16 <= count && 2 * j + 32 <= length; j += 16)
            {
                Vector512<float> v = Vector512.Load(s + j);
                Avx512F.PermuteVar16x32x2(v, SpreadLow, Vector512<float>.Zero).Store(d + 2 * j);
                Avx512F.PermuteVar16x32x2(v, SpreadHigh, Vector512<float>.Zero).Store(d + 2 * j + 16);
            }
        }
        if (SimdWidth.AllowsAvx(width))
        {
            for (; j + 8 <= count && 2 * j + 16 <= length; j += 8)
            {
                Vector256<float> v = Vector256.Load(s + j);
                Vector256<float> low = Avx.UnpackLow(v, Vector256<float>.Zero), high = Avx.UnpackHigh(v, Vector256<float>.Zero);
                Avx.Permute2x128(low, high, 0x20).Store(d + 2 * j);
                Avx.Permute2x128(low, high, 0x31).Store(d + 2 * j + 8);
            }
        }
        for (int i = 2 * j; i < length; i++) d[i] = (i & 1) == 0 && (i >> 1) < count ? s[i >> 1] : 0f;
    }
}
