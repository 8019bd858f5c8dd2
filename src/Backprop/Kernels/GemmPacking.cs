using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Packs blocks of op(A) and op(B) into the contiguous micro-panels the GEMM micro-kernels read.
/// The packing does the transposition, so no transposed matrix is ever materialised; rows or
/// columns past the edge of the matrix are filled with zeros.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[i0 .. i0+rows, p0 .. p0+depth] into panels of mr rows: panel r holds, for each p,
    /// the mr values of rows r*mr .. r*mr+mr-1 (dst[r*mr*depth + p*mr + ii]).
    /// </summary>
    // a: (m, k) with row stride lda, or (k, m) when transA; dst: (ceil(rows/mr), depth, mr)
    public static void PackA(bool transA, float* a, int lda, int i0, int rows, int p0, int depth, int mr, float* dst)
    {
        for (int r = 0; r < rows; r += mr)
        {
            int live = Math.Min(mr, rows - r);
            float* panel = dst + (long)r * depth;
            if (!transA)
            {
                if (live == 6 && mr == 6 && SimdWidth.AllowsAvx(SimdWidth.Max))
                {
                    TransposeRows6(a + (long)(i0 + r) * lda + p0, lda, depth, panel);
                    continue;
                }
                if (live == 8 && mr == 8 && SimdWidth.AllowsAvx(SimdWidth.Max))
                {
                    // The direct convolution's 8-row tiles (K = 16, 32, 64): the scalar loop below cost 34 µs a call on
                    // ResNet's 64x576 weights, more than a third of the convolution at batch 1.
                    TransposeRows8(a + (long)(i0 + r) * lda + p0, lda, depth, panel, 8);
                    continue;
                }
                if (live == 10 && mr == 10 && SimdWidth.AllowsAvx(SimdWidth.Max))
                {
                    TransposeRows10(a + (long)(i0 + r) * lda + p0, lda, depth, panel, Math.Clamp(rows - r - 10, 0, 10));
                    continue;
                }
                for (int ii = 0; ii < live; ii++)
                {
                    float* src = a + (long)(i0 + r + ii) * lda + p0;
                    for (int p = 0; p < depth; p++) panel[p * mr + ii] = src[p];
                }
                for (int ii = live; ii < mr; ii++)
                    for (int p = 0; p < depth; p++) panel[p * mr + ii] = 0f;
            }
            else
            {
                for (int p = 0; p < depth; p++)
                {
                    float* src = a + (long)(p0 + p) * lda + i0 + r;
                    float* d = panel + p * mr;
                    int ii = 0;
                    for (; ii < live; ii++) d[ii] = src[ii];
                    for (; ii < mr; ii++) d[ii] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0 .. p0+depth, j0 .. j0+cols] into panels of nr columns: panel s holds, for each p,
    /// the nr values of columns s*nr .. s*nr+nr-1 (dst[s*nr*depth + p*nr + jj]).
    /// </summary>
    // b: (k, n) with row stride ldb, or (n, k) when transB; dst: (ceil(cols/nr), depth, nr)
    public static void PackB(bool transB, float* b, int ldb, int p0, int depth, int j0, int cols, int nr, float* dst)
    {
        if (!transB && nr % 8 == 0 && SimdWidth.AllowsAvx(SimdWidth.Max))
        {
            CopyRowsToPanels(b + (long)p0 * ldb + j0, ldb, depth, cols, nr, dst);
            return;
        }
        for (int s = 0; s < cols; s += nr)
        {
            int live = Math.Min(nr, cols - s);
            float* panel = dst + (long)s * depth;
            if (!transB)
            {
                for (int p = 0; p < depth; p++)
                {
                    float* src = b + (long)(p0 + p) * ldb + j0 + s;
                    float* d = panel + p * nr;
                    if (live == nr)
                    {
                        Buffer.MemoryCopy(src, d, nr * sizeof(float), nr * sizeof(float));
                    }
                    else
                    {
                        int jj = 0;
                        for (; jj < live; jj++) d[jj] = src[jj];
                        for (; jj < nr; jj++) d[jj] = 0f;
                    }
                }
            }
            else
            {
                int jj = 0;
                if (SimdWidth.AllowsAvx(SimdWidth.Max))
                    for (; jj + 8 <= live; jj += 8) TransposeRows8(b + (long)(j0 + s + jj) * ldb + p0, ldb, depth, panel + jj, nr);
                for (; jj < live; jj++)
                {
                    float* src = b + (long)(j0 + s + jj) * ldb + p0;
                    for (int p = 0; p < depth; p++) panel[p * nr + jj] = src[p];
                }
                for (jj = live; jj < nr; jj++)
                    for (int p = 0; p < depth; p++) panel[p * nr + jj] = 0f;
            }
        }
    }

    /// <summary>
    /// The untransposed B block: row by row (B's rows are read front to back, as the hardware prefetcher likes), each
    /// row's full nr-column runs copied by 8-float vectors into their panels; the last, partial panel is zero-padded.
    /// </summary>
    // src: (depth, cols) with row stride lds; dst: (ceil(cols/nr), depth, nr)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // at tier 0 it ran 2-3x slower than the copy it replaced
    private static void CopyRowsToPanels(float* src, int lds, int depth, int cols, int nr, float* dst)
    {
        int full = cols / nr * nr;
        long panelStride = (long)depth * nr;
        bool wide = nr % 16 == 0 && SimdWidth.Allows512(SimdWidth.Max);   // 64-byte copies: the AVX-512 tile's 32-column panels
        for (int p = 0; p < depth; p++)
        {
            float* row = src + (long)p * lds;
            float* d = dst + (long)p * nr;
            if (wide)
            {
                for (int s = 0; s < full; s += nr, d += panelStride)
                    for (int q = 0; q < nr; q += 16) Vector512.Store(Vector512.Load(row + s + q), d + q);
            }
            else
            {
                for (int s = 0; s < full; s += nr, d += panelStride)
                    for (int q = 0; q < nr; q += 8) Vector256.Store(Vector256.Load(row + s + q), d + q);
            }
            if (full < cols)
            {
                int jj = 0;
                for (; jj < cols - full; jj++) d[jj] = row[full + jj];
                for (; jj < nr; jj++) d[jj] = 0f;
            }
        }
    }

    /// <summary>
    /// dst[p*10 + i] = src[i*lds + p] for 10 rows i and p in [0, depth): a full A panel of the 10-row AVX-512 tile. Rows
    /// 0-7 go through the 8x8 register transpose; rows 8 and 9 are interleaved in registers and stored as 8-byte pairs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // as above: the intrinsics are calls at tier 0
    private static void TransposeRows10(float* src, int lds, int depth, float* dst, int nextRows)
    {
        int p = 0;
        float* s8 = src + 8L * lds, s9 = src + 9L * lds;
        float* next = src + 10L * lds;
        // The next panel's rows (nextRows of them) asked for a line ahead of this panel's transpose, column for column:
        // each row's run is short (1 KB at depth 256) and 8 KB from the next at 2048 columns, too short for the hardware
        // prefetcher to pick up.
        for (; p + 8 <= depth; p += 8)
        {
            if ((p & 15) == 0)
                for (int row = 0; row < nextRows; row++) Sse.Prefetch0(next + (long)row * lds + p);
            float* d = dst + (long)p * 10;
            Transpose8x8.Block(src + p, lds, d, 10);
            Vector256<float> r8 = Vector256.Load(s8 + p), r9 = Vector256.Load(s9 + p);
            Vector256<double> lo = Avx.UnpackLow(r8, r9).AsDouble();    // pairs of columns p, p+1 | p+4, p+5
            Vector256<double> hi = Avx.UnpackHigh(r8, r9).AsDouble();   // pairs of columns p+2, p+3 | p+6, p+7
            Sse2.StoreScalar((double*)(d + 8), lo.GetLower());
            Sse2.StoreHigh((double*)(d + 18), lo.GetLower());
            Sse2.StoreScalar((double*)(d + 28), hi.GetLower());
            Sse2.StoreHigh((double*)(d + 38), hi.GetLower());
            Sse2.StoreScalar((double*)(d + 48), lo.GetUpper());
            Sse2.StoreHigh((double*)(d + 58), lo.GetUpper());
            Sse2.StoreScalar((double*)(d + 68), hi.GetUpper());
            Sse2.StoreHigh((double*)(d + 78), hi.GetUpper());
        }
        for (; p < depth; p++)
            for (int i = 0; i < 10; i++) dst[(long)p * 10 + i] = src[(long)i * lds + p];
    }

    /// <summary>
    /// dst[p*6 + i] = src[i*lds + p] for 6 rows i and p in [0, depth): a full A panel of the 6-row
    /// micro-kernels, through the 8x8 register transpose (two zero rows; each 8-wide store's last two
    /// lanes are overwritten by the next, and the last column of a block is stored 6 wide).
    /// </summary>
    private static void TransposeRows6(float* src, int lds, int depth, float* dst)
    {
        int p = 0;
        Vector256<float> zero = Vector256<float>.Zero;
        for (; p + 8 <= depth; p += 8)
        {
            float* s0 = src + p;
            Vector256<float> r0 = Avx.LoadVector256(s0), r1 = Avx.LoadVector256(s0 + lds);
            Vector256<float> r2 = Avx.LoadVector256(s0 + 2L * lds), r3 = Avx.LoadVector256(s0 + 3L * lds);
            Vector256<float> r4 = Avx.LoadVector256(s0 + 4L * lds), r5 = Avx.LoadVector256(s0 + 5L * lds);
            Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
            Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
            Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
            Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> u4 = Avx.Shuffle(t4, zero, 0x44), u5 = Avx.Shuffle(t4, zero, 0xEE);
            Vector256<float> u6 = Avx.Shuffle(t5, zero, 0x44), u7 = Avx.Shuffle(t5, zero, 0xEE);
            float* d = dst + (long)p * 6;
            Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
            Avx.Store(d + 6, Avx.Permute2x128(u1, u5, 0x20));
            Avx.Store(d + 12, Avx.Permute2x128(u2, u6, 0x20));
            Avx.Store(d + 18, Avx.Permute2x128(u3, u7, 0x20));
            Avx.Store(d + 24, Avx.Permute2x128(u0, u4, 0x31));
            Avx.Store(d + 30, Avx.Permute2x128(u1, u5, 0x31));
            Avx.Store(d + 36, Avx.Permute2x128(u2, u6, 0x31));
            Vector256<float> last = Avx.Permute2x128(u3, u7, 0x31);
            Sse.Store(d + 42, last.GetLower());
            d[46] = last.GetElement(4);
            d[47] = last.GetElement(5);
        }
        for (; p < depth; p++)
            for (int i = 0; i < 6; i++) dst[(long)p * 6 + i] = src[(long)i * lds + p];
    }

    /// <summary>
    /// dst[p*ldd + i] = src[i*lds + p] for 8 rows i and p in [0, depth): eight rows become eight
    /// columns, 8x8 blocks at a time through registers (the transposed weights of a Linear layer are
    /// packed this way on every forward pass).
    /// </summary>
    private static void TransposeRows8(float* src, int lds, int depth, float* dst, int ldd)
    {
        int p = 0;
        for (; p + 8 <= depth; p += 8)
            Transpose8x8.Block(src + p, lds, dst + (long)p * ldd, ldd);
        for (; p < depth; p++)
            for (int i = 0; i < 8; i++) dst[(long)p * ldd + i] = src[(long)i * lds + p];
    }
}
