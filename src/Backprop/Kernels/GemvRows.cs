using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// c[j] = alpha * (B[j, :] · a) + beta * c[j] for one row a and B stored (n, k) row-major: a fully connected layer at
/// batch 1 (<see cref="Gemm.Sgemm"/> with m = 1, op(B) = B^T). Eight rows of B at a time share each load of a, each row
/// with its own accumulator (eight independent chains of multiply-adds, where one dot product at a time waits on each
/// add), and the rows are split over <see cref="KernelThreads"/> in blocks of eight, so each core reads only its share
/// of B (LeNet's 800x500 weight is 1.6 MB: in L2, the product is bound by how fast B streams in).
/// Every row is summed in the same order whatever block or thread computes it: results do not depend on the thread count.
/// </summary>
internal static unsafe class GemvRows
{
    private const int Block = 8;
    private const long ThreadWork = 1 << 16;   // multiply-adds below which a second thread costs more than it saves

    /// <summary>With AVX-512 and rows of at least one vector.</summary>
    public static bool Applies(int width, int k) => SimdWidth.Allows512(width) && k >= 16;

    // a: (k); b: (n, k) with row stride ldb; c: (n)
    public static void Run(int n, int k, float alpha, float* a, float* b, int ldb, float beta, float* c)
    {
        int blocks = (n + Block - 1) / Block;
        if ((long)n * k < ThreadWork || KernelThreads.Count == 1)
        {
            Rows(0, n, k, alpha, a, b, ldb, beta, c);
            return;
        }
        nint ia = (nint)a, ib = (nint)b, ic = (nint)c;
        KernelThreads.For(blocks, (s, e) => Rows(s * Block, Math.Min(n, e * Block), k, alpha, (float*)ia, (float*)ib, ldb, beta, (float*)ic));
    }

    private static void Rows(int j0, int j1, int k, float alpha, float* a, float* b, int ldb, float beta, float* c)
    {
        int j = j0;
        for (; j + Block <= j1; j += Block) Rows8(k, alpha, a, b + (long)j * ldb, ldb, beta, c + j);
        for (; j < j1; j++) c[j] = Finish(Dot(k, a, b + (long)j * ldb), k, a, b + (long)j * ldb, alpha, beta, c[j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows8(int k, float alpha, float* a, float* b, int ldb, float beta, float* c)
    {
        float* b0 = b, b1 = b + ldb, b2 = b + 2L * ldb, b3 = b + 3L * ldb, b4 = b + 4L * ldb, b5 = b + 5L * ldb, b6 = b + 6L * ldb, b7 = b + 7L * ldb;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var x = Vector512.Load(a + p);
            s0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b0 + p), s0);
            s1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b1 + p), s1);
            s2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b2 + p), s2);
            s3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b3 + p), s3);
            s4 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b4 + p), s4);
            s5 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b5 + p), s5);
            s6 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b6 + p), s6);
            s7 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b7 + p), s7);
        }
        c[0] = Finish(s0, k, a, b0, alpha, beta, c[0]);
        c[1] = Finish(s1, k, a, b1, alpha, beta, c[1]);
        c[2] = Finish(s2, k, a, b2, alpha, beta, c[2]);
        c[3] = Finish(s3, k, a, b3, alpha, beta, c[3]);
        c[4] = Finish(s4, k, a, b4, alpha, beta, c[4]);
        c[5] = Finish(s5, k, a, b5, alpha, beta, c[5]);
        c[6] = Finish(s6, k, a, b6, alpha, beta, c[6]);
        c[7] = Finish(s7, k, a, b7, alpha, beta, c[7]);
    }

    // One row's vector sum, in the same order as Rows8's.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Dot(int k, float* a, float* row)
    {
        Vector512<float> s = default;
        for (int p = 0; p + 16 <= k; p += 16) s = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(row + p), s);
        return s;
    }

    // The lanes summed, then the last k mod 16 products one by one; scaled as Sgemm's contract says.
    private static float Finish(Vector512<float> s, int k, float* a, float* row, float alpha, float beta, float old)
    {
        float sum = Vector512.Sum(s);
        for (int p = k / 16 * 16; p < k; p++) sum = MathF.FusedMultiplyAdd(a[p], row[p], sum);
        return beta == 0f ? alpha * sum : alpha * sum + beta * old;
    }
}
