using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Register-tiled "dot" micro-kernels for C = A * B^T where both A (MR rows) and B (NR rows) run
/// along the reduction: each of the MR x NR accumulators is a vector of partial sums over the
/// reduction (lane l sums positions p with p mod lanes == l), reduced to one number at the end.
/// The backward-weights gradient is this shape (dy rows times image rows, both along pixels), so no
/// operand is ever transposed. The reduction length is a multiple of 16 (callers pad with zeros).
/// Every tile goes through the same operations, so results do not depend on how work is split.
/// </summary>
internal static unsafe class DotMicroKernels
{
    /// <summary>Rows of A and rows of B per tile for a SIMD width in bits (what fits the registers).</summary>
    public static (int Mr, int Nr) TileFor(int width) => width == 512 ? (4, 5) : (3, 3);

    /// <summary>
    /// The tile for <paramref name="rows"/> rows of A: at 512 bits, 5x5 (25 accumulators, 31 of the 32 registers)
    /// when 5 divides the rows better than 4 (50 output channels: no padded row, and 10 loads per 25 multiply-adds
    /// instead of 9 per 20); otherwise <see cref="TileFor(int)"/>.
    /// </summary>
    public static (int Mr, int Nr) TileFor(int width, int rows) =>
        width == 512 && (rows + 4) / 5 * 5 < (rows + 3) / 4 * 4 ? (5, 5) : TileFor(width);

    /// <summary>Reduction lengths must be a multiple of this (every width's lane count divides it).</summary>
    public const int Align = 16;

    /// <summary>tile[i*NR + j] = sum over p in [0, length) of a[i*ld + p] * b[j*ld + p], for the tile of the width.</summary>
    // a: (MR, length) with row stride ld; b: (NR, length) with row stride ld; tile: (MR, NR)
    public static void Tile(int width, int length, float* a, float* b, int ld, float* tile, int mr = 0)
    {
        switch (width)
        {
            case 512 when mr == 5: Tile512x5(length, a, b, ld, tile); break;
            case 512: Tile512(length, a, b, ld, tile); break;
            case 256: Tile256(length, a, b, ld, tile); break;
            case 128: Tile128(length, a, b, ld, tile); break;
            default: TileScalar(length, a, b, ld, tile); break;
        }
    }

    // a: (4, length); b: (5, length); tile: (4, 5)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Tile512(int length, float* a, float* b, int ld, float* tile)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c04 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default, c14 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c24 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default, c34 = default;
        float* a0 = a, a1 = a + ld, a2 = a + 2 * ld, a3 = a + 3 * ld;
        float* b0 = b, b1 = b + ld, b2 = b + 2 * ld, b3 = b + 3 * ld, b4 = b + 4 * ld;
        for (int p = 0; p < length; p += 16)
        {
            Vector512<float> x0 = Vector512.Load(a0 + p), x1 = Vector512.Load(a1 + p);
            Vector512<float> x2 = Vector512.Load(a2 + p), x3 = Vector512.Load(a3 + p);
            Vector512<float> y = Vector512.Load(b0 + p);
            c00 = Vector512.FusedMultiplyAdd(x0, y, c00); c10 = Vector512.FusedMultiplyAdd(x1, y, c10);
            c20 = Vector512.FusedMultiplyAdd(x2, y, c20); c30 = Vector512.FusedMultiplyAdd(x3, y, c30);
            y = Vector512.Load(b1 + p);
            c01 = Vector512.FusedMultiplyAdd(x0, y, c01); c11 = Vector512.FusedMultiplyAdd(x1, y, c11);
            c21 = Vector512.FusedMultiplyAdd(x2, y, c21); c31 = Vector512.FusedMultiplyAdd(x3, y, c31);
            y = Vector512.Load(b2 + p);
            c02 = Vector512.FusedMultiplyAdd(x0, y, c02); c12 = Vector512.FusedMultiplyAdd(x1, y, c12);
            c22 = Vector512.FusedMultiplyAdd(x2, y, c22); c32 = Vector512.FusedMultiplyAdd(x3, y, c32);
            y = Vector512.Load(b3 + p);
            c03 = Vector512.FusedMultiplyAdd(x0, y, c03); c13 = Vector512.FusedMultiplyAdd(x1, y, c13);
            c23 = Vector512.FusedMultiplyAdd(x2, y, c23); c33 = Vector512.FusedMultiplyAdd(x3, y, c33);
            y = Vector512.Load(b4 + p);
            c04 = Vector512.FusedMultiplyAdd(x0, y, c04); c14 = Vector512.FusedMultiplyAdd(x1, y, c14);
            c24 = Vector512.FusedMultiplyAdd(x2, y, c24); c34 = Vector512.FusedMultiplyAdd(x3, y, c34);
        }
        // Fold 16 lanes to 8, then reduce eight accumulators at a time (a transpose by pairwise sums).
        Reduce8(Fold(c00), Fold(c01), Fold(c02), Fold(c03), Fold(c04), Fold(c10), Fold(c11), Fold(c12), tile);
        Reduce8(Fold(c13), Fold(c14), Fold(c20), Fold(c21), Fold(c22), Fold(c23), Fold(c24), Fold(c30), tile + 8);
        Reduce8(Fold(c31), Fold(c32), Fold(c33), Fold(c34), default, default, default, default, tile + 16, 4);
    }

    // a: (5, length); b: (5, length); tile: (5, 5)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    private static void Tile512x5(int length, float* a, float* b, int ld, float* tile)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c04 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default, c14 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c24 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default, c34 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default, c44 = default;
        float* a0 = a, a1 = a + ld, a2 = a + 2 * ld, a3 = a + 3 * ld, a4 = a + 4 * ld;
        float* b0 = b, b1 = b + ld, b2 = b + 2 * ld, b3 = b + 3 * ld, b4 = b + 4 * ld;
        for (int p = 0; p < length; p += 16)
        {
            Vector512<float> x0 = Vector512.Load(a0 + p), x1 = Vector512.Load(a1 + p), x2 = Vector512.Load(a2 + p);
            Vector512<float> x3 = Vector512.Load(a3 + p), x4 = Vector512.Load(a4 + p);
            Vector512<float> y = Vector512.Load(b0 + p);
            c00 = Vector512.FusedMultiplyAdd(x0, y, c00); c10 = Vector512.FusedMultiplyAdd(x1, y, c10); c20 = Vector512.FusedMultiplyAdd(x2, y, c20);
            c30 = Vector512.FusedMultiplyAdd(x3, y, c30); c40 = Vector512.FusedMultiplyAdd(x4, y, c40);
            y = Vector512.Load(b1 + p);
            c01 = Vector512.FusedMultiplyAdd(x0, y, c01); c11 = Vector512.FusedMultiplyAdd(x1, y, c11); c21 = Vector512.FusedMultiplyAdd(x2, y, c21);
            c31 = Vector512.FusedMultiplyAdd(x3, y, c31); c41 = Vector512.FusedMultiplyAdd(x4, y, c41);
            y = Vector512.Load(b2 + p);
            c02 = Vector512.FusedMultiplyAdd(x0, y, c02); c12 = Vector512.FusedMultiplyAdd(x1, y, c12); c22 = Vector512.FusedMultiplyAdd(x2, y, c22);
            c32 = Vector512.FusedMultiplyAdd(x3, y, c32); c42 = Vector512.FusedMultiplyAdd(x4, y, c42);
            y = Vector512.Load(b3 + p);
            c03 = Vector512.FusedMultiplyAdd(x0, y, c03); c13 = Vector512.FusedMultiplyAdd(x1, y, c13); c23 = Vector512.FusedMultiplyAdd(x2, y, c23);
            c33 = Vector512.FusedMultiplyAdd(x3, y, c33); c43 = Vector512.FusedMultiplyAdd(x4, y, c43);
            y = Vector512.Load(b4 + p);
            c04 = Vector512.FusedMultiplyAdd(x0, y, c04); c14 = Vector512.FusedMultiplyAdd(x1, y, c14); c24 = Vector512.FusedMultiplyAdd(x2, y, c24);
            c34 = Vector512.FusedMultiplyAdd(x3, y, c34); c44 = Vector512.FusedMultiplyAdd(x4, y, c44);
        }
        Reduce8(Fold(c00), Fold(c01), Fold(c02), Fold(c03), Fold(c04), Fold(c10), Fold(c11), Fold(c12), tile);
        Reduce8(Fold(c13), Fold(c14), Fold(c20), Fold(c21), Fold(c22), Fold(c23), Fold(c24), Fold(c30), tile + 8);
        Reduce8(Fold(c31), Fold(c32), Fold(c33), Fold(c34), Fold(c40), Fold(c41), Fold(c42), Fold(c43), tile + 16);
        Reduce8(Fold(c44), default, default, default, default, default, default, default, tile + 24, 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Fold(Vector512<float> v) => v.GetLower() + v.GetUpper();

    /// <summary>dst[i] = ((vi[0]+vi[1]) + (vi[2]+vi[3])) + ((vi[4]+vi[5]) + (vi[6]+vi[7])) for i &lt; count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Reduce8(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
        Vector256<float> v4, Vector256<float> v5, Vector256<float> v6, Vector256<float> v7, float* dst, int count = 8)
    {
        // Only the 512-bit tiles call this (SimdWidth chose them), so AVX is asked directly: the same test through
        // SimdWidth.AllowsAvx(512) stopped the JIT inlining here and made the weight gradient 2.4x slower (A/B, LeNet conv2).
        if (Avx.IsSupported)
        {
            Vector256<float> s0123 = Avx.HorizontalAdd(Avx.HorizontalAdd(v0, v1), Avx.HorizontalAdd(v2, v3));
            Vector256<float> s4567 = Avx.HorizontalAdd(Avx.HorizontalAdd(v4, v5), Avx.HorizontalAdd(v6, v7));
            // Each 128-bit half holds the sums of lanes 0-3 or 4-7; add the halves.
            Vector256<float> sums = Vector256.Create(s0123.GetLower(), s4567.GetLower()) + Vector256.Create(s0123.GetUpper(), s4567.GetUpper());
            if (count == 8) sums.Store(dst);
            else for (int i = 0; i < count; i++) dst[i] = sums.GetElement(i);
            return;
        }
        Vector256<float>* v = stackalloc Vector256<float>[] { v0, v1, v2, v3, v4, v5, v6, v7 };
        for (int i = 0; i < count; i++)
        {
            Vector256<float> x = v[i];
            dst[i] = ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
        }
    }

    // a: (3, length); b: (3, length); tile: (3, 3)
    private static void Tile256(int length, float* a, float* b, int ld, float* tile)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default;
        float* a0 = a, a1 = a + ld, a2 = a + 2 * ld;
        float* b0 = b, b1 = b + ld, b2 = b + 2 * ld;
        for (int p = 0; p < length; p += 8)
        {
            Vector256<float> x0 = Vector256.Load(a0 + p), x1 = Vector256.Load(a1 + p), x2 = Vector256.Load(a2 + p);
            Vector256<float> y = Vector256.Load(b0 + p);
            c00 = Vector256.FusedMultiplyAdd(x0, y, c00); c10 = Vector256.FusedMultiplyAdd(x1, y, c10); c20 = Vector256.FusedMultiplyAdd(x2, y, c20);
            y = Vector256.Load(b1 + p);
            c01 = Vector256.FusedMultiplyAdd(x0, y, c01); c11 = Vector256.FusedMultiplyAdd(x1, y, c11); c21 = Vector256.FusedMultiplyAdd(x2, y, c21);
            y = Vector256.Load(b2 + p);
            c02 = Vector256.FusedMultiplyAdd(x0, y, c02); c12 = Vector256.FusedMultiplyAdd(x1, y, c12); c22 = Vector256.FusedMultiplyAdd(x2, y, c22);
        }
        tile[0] = Vector256.Sum(c00); tile[1] = Vector256.Sum(c01); tile[2] = Vector256.Sum(c02);
        tile[3] = Vector256.Sum(c10); tile[4] = Vector256.Sum(c11); tile[5] = Vector256.Sum(c12);
        tile[6] = Vector256.Sum(c20); tile[7] = Vector256.Sum(c21); tile[8] = Vector256.Sum(c22);
    }

    // a: (3, length); b: (3, length); tile: (3, 3)
    private static void Tile128(int length, float* a, float* b, int ld, float* tile)
    {
        Vector128<float> c00 = default, c01 = default, c02 = default;
        Vector128<float> c10 = default, c11 = default, c12 = default;
        Vector128<float> c20 = default, c21 = default, c22 = default;
        float* a0 = a, a1 = a + ld, a2 = a + 2 * ld;
        float* b0 = b, b1 = b + ld, b2 = b + 2 * ld;
        for (int p = 0; p < length; p += 4)
        {
            Vector128<float> x0 = Vector128.Load(a0 + p), x1 = Vector128.Load(a1 + p), x2 = Vector128.Load(a2 + p);
            Vector128<float> y = Vector128.Load(b0 + p);
            c00 = Vector128.FusedMultiplyAdd(x0, y, c00); c10 = Vector128.FusedMultiplyAdd(x1, y, c10); c20 = Vector128.FusedMultiplyAdd(x2, y, c20);
            y = Vector128.Load(b1 + p);
            c01 = Vector128.FusedMultiplyAdd(x0, y, c01); c11 = Vector128.FusedMultiplyAdd(x1, y, c11); c21 = Vector128.FusedMultiplyAdd(x2, y, c21);
            y = Vector128.Load(b2 + p);
            c02 = Vector128.FusedMultiplyAdd(x0, y, c02); c12 = Vector128.FusedMultiplyAdd(x1, y, c12); c22 = Vector128.FusedMultiplyAdd(x2, y, c22);
        }
        tile[0] = Vector128.Sum(c00); tile[1] = Vector128.Sum(c01); tile[2] = Vector128.Sum(c02);
        tile[3] = Vector128.Sum(c10); tile[4] = Vector128.Sum(c11); tile[5] = Vector128.Sum(c12);
        tile[6] = Vector128.Sum(c20); tile[7] = Vector128.Sum(c21); tile[8] = Vector128.Sum(c22);
    }

    // a: (3, length); b: (3, length); tile: (3, 3)
    private static void TileScalar(int length, float* a, float* b, int ld, float* tile)
    {
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                float* ai = a + (long)i * ld, bj = b + (long)j * ld;
                float sum = 0f;
                for (int p = 0; p < length; p++) sum = MathF.FusedMultiplyAdd(ai[p], bj[p], sum);
                tile[i * 3 + j] = sum;
            }
        }
    }
}
