using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The 8x8 float transpose through AVX registers (8 unpacks, 8 shuffles, 8 lane swaps per 64 floats), shared by the
/// packing and layout code that turns rows into columns. Callers check <see cref="Avx.IsSupported"/> (through
/// <see cref="SimdWidth"/>) first.
/// </summary>
internal static unsafe class Transpose8x8
{
    /// <summary>dst[j * ldd + i] = src[i * lds + j] for i, j &lt; 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(float* src, long lds, float* dst, long ldd)
    {
        Vector256<float> r0 = Vector256.Load(src), r1 = Vector256.Load(src + lds), r2 = Vector256.Load(src + 2 * lds), r3 = Vector256.Load(src + 3 * lds);
        Vector256<float> r4 = Vector256.Load(src + 4 * lds), r5 = Vector256.Load(src + 5 * lds), r6 = Vector256.Load(src + 6 * lds), r7 = Vector256.Load(src + 7 * lds);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + ldd);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + 2 * ldd);
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + 3 * ldd);
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + 4 * ldd);
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + 5 * ldd);
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + 6 * ldd);
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + 7 * ldd);
    }
}
