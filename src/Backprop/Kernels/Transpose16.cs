using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The 16x16 float transpose through AVX-512 registers (16 unpacks, 16 shuffles, 32 128-bit lane shuffles per 256
/// floats), so each destination row of 16 floats (a 64-byte line when aligned) is one store, not two halves as with
/// <see cref="Transpose8x8"/>. Callers check <see cref="Avx512F.IsSupported"/> (through <see cref="SimdWidth"/>) first.
/// </summary>
internal static unsafe class Transpose16
{
    /// <summary>dst[j * ldd + i] = src[i * lds + j] for i, j &lt; 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block16x16(float* src, long lds, float* dst, long ldd)
    {
        // Within each 128-bit lane k (pixels 4k..4k+3): after the unpacks and shuffles, u[4g + m] holds rows 4g..4g+3 at
        // column 4k + m.
        Vector512<float> r0 = Vector512.Load(src), r1 = Vector512.Load(src + lds), r2 = Vector512.Load(src + 2 * lds), r3 = Vector512.Load(src + 3 * lds);
        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1), t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> u0 = Avx512F.Shuffle(t0, t2, 0x44), u1 = Avx512F.Shuffle(t0, t2, 0xEE), u2 = Avx512F.Shuffle(t1, t3, 0x44), u3 = Avx512F.Shuffle(t1, t3, 0xEE);
        r0 = Vector512.Load(src + 4 * lds); r1 = Vector512.Load(src + 5 * lds); r2 = Vector512.Load(src + 6 * lds); r3 = Vector512.Load(src + 7 * lds);
        t0 = Avx512F.UnpackLow(r0, r1); t1 = Avx512F.UnpackHigh(r0, r1); t2 = Avx512F.UnpackLow(r2, r3); t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> u4 = Avx512F.Shuffle(t0, t2, 0x44), u5 = Avx512F.Shuffle(t0, t2, 0xEE), u6 = Avx512F.Shuffle(t1, t3, 0x44), u7 = Avx512F.Shuffle(t1, t3, 0xEE);
        // Rows 0-7: a[m] = [u_m.l0, u_m.l2, u_{4+m}.l0, u_{4+m}.l2], b[m] = the odd lanes.
        Vector512<float> a0 = Avx512F.Shuffle4x128(u0, u4, 0x88), b0 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        Vector512<float> a1 = Avx512F.Shuffle4x128(u1, u5, 0x88), b1 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        Vector512<float> a2 = Avx512F.Shuffle4x128(u2, u6, 0x88), b2 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        Vector512<float> a3 = Avx512F.Shuffle4x128(u3, u7, 0x88), b3 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        r0 = Vector512.Load(src + 8 * lds); r1 = Vector512.Load(src + 9 * lds); r2 = Vector512.Load(src + 10 * lds); r3 = Vector512.Load(src + 11 * lds);
        t0 = Avx512F.UnpackLow(r0, r1); t1 = Avx512F.UnpackHigh(r0, r1); t2 = Avx512F.UnpackLow(r2, r3); t3 = Avx512F.UnpackHigh(r2, r3);
        u0 = Avx512F.Shuffle(t0, t2, 0x44); u1 = Avx512F.Shuffle(t0, t2, 0xEE); u2 = Avx512F.Shuffle(t1, t3, 0x44); u3 = Avx512F.Shuffle(t1, t3, 0xEE);
        r0 = Vector512.Load(src + 12 * lds); r1 = Vector512.Load(src + 13 * lds); r2 = Vector512.Load(src + 14 * lds); r3 = Vector512.Load(src + 15 * lds);
        t0 = Avx512F.UnpackLow(r0, r1); t1 = Avx512F.UnpackHigh(r0, r1); t2 = Avx512F.UnpackLow(r2, r3); t3 = Avx512F.UnpackHigh(r2, r3);
        u4 = Avx512F.Shuffle(t0, t2, 0x44); u5 = Avx512F.Shuffle(t0, t2, 0xEE); u6 = Avx512F.Shuffle(t1, t3, 0x44); u7 = Avx512F.Shuffle(t1, t3, 0xEE);
        // Rows 8-15 likewise (c, d); column 4k + m = [a_m or b_m lanes, c_m or d_m lanes].
        Vector512<float> c0 = Avx512F.Shuffle4x128(u0, u4, 0x88), d0 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        Vector512<float> c1 = Avx512F.Shuffle4x128(u1, u5, 0x88), d1 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        Vector512<float> c2 = Avx512F.Shuffle4x128(u2, u6, 0x88), d2 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        Vector512<float> c3 = Avx512F.Shuffle4x128(u3, u7, 0x88), d3 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        Avx512F.Shuffle4x128(a0, c0, 0x88).Store(dst);
        Avx512F.Shuffle4x128(a1, c1, 0x88).Store(dst + ldd);
        Avx512F.Shuffle4x128(a2, c2, 0x88).Store(dst + 2 * ldd);
        Avx512F.Shuffle4x128(a3, c3, 0x88).Store(dst + 3 * ldd);
        Avx512F.Shuffle4x128(b0, d0, 0x88).Store(dst + 4 * ldd);
        Avx512F.Shuffle4x128(b1, d1, 0x88).Store(dst + 5 * ldd);
        Avx512F.Shuffle4x128(b2, d2, 0x88).Store(dst + 6 * ldd);
        Avx512F.Shuffle4x128(b3, d3, 0x88).Store(dst + 7 * ldd);
        Avx512F.Shuffle4x128(a0, c0, 0xDD).Store(dst + 8 * ldd);
        Avx512F.Shuffle4x128(a1, c1, 0xDD).Store(dst + 9 * ldd);
        Avx512F.Shuffle4x128(a2, c2, 0xDD).Store(dst + 10 * ldd);
        Avx512F.Shuffle4x128(a3, c3, 0xDD).Store(dst + 11 * ldd);
        Avx512F.Shuffle4x128(b0, d0, 0xDD).Store(dst + 12 * ldd);
        Avx512F.Shuffle4x128(b1, d1, 0xDD).Store(dst + 13 * ldd);
        Avx512F.Shuffle4x128(b2, d2, 0xDD).Store(dst + 14 * ldd);
        Avx512F.Shuffle4x128(b3, d3, 0xDD).Store(dst + 15 * ldd);
    }
}
