namespace Backprop.Kernels;

/// <summary>
/// The definition of <see cref="Gemm.Sgemm"/>: plain loops, no SIMD, no blocking, sums in double.
/// C[m x n] = alpha * op(A) * op(B) + beta * C, row-major; beta == 0 overwrites C.
/// </summary>
public static class GemmReference
{
    // a: (m, k) with row stride lda, or (k, m) when transA
    // b: (k, n) with row stride ldb, or (n, k) when transB
    // c: (m, n) with row stride ldc
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }
                double result = alpha * sum;
                if (beta != 0) result += (double)beta * c[i * ldc + j];
                c[i * ldc + j] = (float)result;
            }
        }
    }
}
