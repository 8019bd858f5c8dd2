using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// The AVX2 direct-convolution tile for the last 1-4 output channels of a 6-row tiling
/// (<see cref="DirectMicroKernels.Kernel256x6"/>'s panel: two runs of 8 contiguous floats at `first` and `second`):
/// 16 channels ran as 6 + 6 + 4, the last tile computing two zero rows (an eighth of the work wasted) and storing
/// through a scratch tile. Reads the first 4 of each 6 packed values, so the 6-row packing serves both kernels, and
/// sums each accumulator over its depth rows in order with one fused multiply-add per row, as the 6-row kernel does:
/// the same bits whichever tile computes a channel.
/// </summary>
internal static unsafe class DirectMicroKernel256x4
{
    /// <summary>Packed values per depth row of the 6-row packing this kernel reads.</summary>
    private const int PackedRows = 6;

    // a: (depth, 6) packed, rows 0-3 read; offsets: (depth, 3), the first entry each; c: (rows, 16) tile with row stride ldc;
    // bias: null, or 4 readable values added to the sums before the store (as Kernel256x6 adds its bias)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    public static void Run(int depth, float* a, float* image, int* offsets, int first, int second, float* c, int ldc, int rows, bool accumulate,
        float* bias = null)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < depth; p++)
        {
            float* src = image + offsets[3 * p];
            Vector256<float> b0 = Vector256.Load(src + first), b1 = Vector256.Load(src + second);
            Vector256<float> av = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(av, b0, c00); c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(av, b0, c10); c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(av, b0, c20); c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(av, b0, c30); c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
            a += PackedRows;
        }
        if (bias != null)
        {
            Vector256<float> b0 = Vector256.Create(bias[0]); c00 += b0; c01 += b0;
            Vector256<float> b1 = Vector256.Create(bias[1]); c10 += b1; c11 += b1;
            Vector256<float> b2 = Vector256.Create(bias[2]); c20 += b2; c21 += b2;
            Vector256<float> b3 = Vector256.Create(bias[3]); c30 += b3; c31 += b3;
        }
        float beta = accumulate ? 1f : 0f;
        // Rows past `rows` are not stored: each store is one row's pair of vectors.
        GemmMicroKernels.Store256(c, c00, 1f, beta); GemmMicroKernels.Store256(c + 8, c01, 1f, beta);
        if (rows < 2) return;
        c += ldc;
        GemmMicroKernels.Store256(c, c10, 1f, beta); GemmMicroKernels.Store256(c + 8, c11, 1f, beta);
        if (rows < 3) return;
        c += ldc;
        GemmMicroKernels.Store256(c, c20, 1f, beta); GemmMicroKernels.Store256(c + 8, c21, 1f, beta);
        if (rows < 4) return;
        c += ldc;
        GemmMicroKernels.Store256(c, c30, 1f, beta); GemmMicroKernels.Store256(c + 8, c31, 1f, beta);
    }
}
