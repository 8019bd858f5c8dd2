using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// AVX-512 and AVX2 GEMM micro-kernels for a convolution whose 32-pixel column panel is read straight from an image
/// instead of a packed panel (<see cref="ConvolutionDirect"/>): depth row p's pixels start at
/// image + offsets[3p]; the panel's two 16-pixel vectors start at `first` and `second`. Where output rows are a
/// multiple of 16 wide, each vector is 16 contiguous floats (<see cref="Contiguous"/>); otherwise it is two runs
/// of 8, the second `half` floats on (the next input row where an output row ends after 8), loaded as two halves
/// (<see cref="Runs"/>). A tile of 10 or 8 output channels (whichever pads the channel count less: 20 and 50
/// take 10; 16, 32 and 64 take 8). Each accumulator sums its depth rows in order with one fused multiply-add per
/// row, as the packed kernels do, so results do not depend on which kernel ran. c = acc, or c += acc when accumulate;
/// with a bias (one entry per tile row, all mr of them readable), acc + bias[row] first.
/// </summary>
// In L1 on one core (2026-12-06, Intel Xeon): contiguous loads 168 GFLOPS, the same as the packed Kernel512x10; two
// 256-bit loads and an insert 117. (Two 512-bit loads and a permute ran 138 in L1 but 11% slower than the halves in
// LeNet's conv2 and cifar10_quick's conv3.) The load is a type parameter: the JIT compiles one kernel per loader,
// each as fast as a hand-written copy.
internal static unsafe class DirectMicroKernels
{
    /// <summary>
    /// Output channels per tile for K channels: with AVX-512 8 or 10, whichever leaves fewer padded rows (10 on a tie);
    /// with AVX2 6 (<see cref="Kernel256x6"/>).
    /// </summary>
    public static int RowsFor(int width, int channels) =>
        width != 512 ? 6 : (channels + 7) / 8 * 8 < (channels + 9) / 10 * 10 ? 8 : 10;

    /// <summary>Pixels per panel: 32 (two 512-bit vectors) or 16 (two 256-bit ones).</summary>
    public static int PanelFor(int width) => width == 512 ? 32 : 16;

    /// <summary>Runs the kernel of <paramref name="mr"/> rows (8 or 10) on rows = min(mr, rows left) output channels.</summary>
    // a: (depth, mr) packed; offsets: (depth, 3), the first entry each; c: (rows, 32) tile with row stride ldc
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int mr, bool contiguous, int depth, float* a, float* image, int* offsets, int first, int firstHalf, int second,
        int secondHalf, float* c, int ldc, int rows, bool accumulate, float* bias = null)
    {
        if (contiguous)
        {
            if (mr == 8) Kernel8<Contiguous>(depth, a, image, offsets, first, firstHalf, second, secondHalf, c, ldc, rows, accumulate, bias);
            else Kernel10<Contiguous>(depth, a, image, offsets, first, firstHalf, second, secondHalf, c, ldc, rows, accumulate, bias);
        }
        else
        {
            if (mr == 8) Kernel8<Runs>(depth, a, image, offsets, first, firstHalf, second, secondHalf, c, ldc, rows, accumulate, bias);
            else Kernel10<Runs>(depth, a, image, offsets, first, firstHalf, second, secondHalf, c, ldc, rows, accumulate, bias);
        }
    }

    /// <summary>How a kernel loads one 16-pixel vector of its panel.</summary>
    public interface IPixelLoad
    {
        /// <summary>The 16 pixels at p (and p + half for the second 8, where the vector is two runs).</summary>
        static abstract Vector512<float> Load(float* p, int half);
    }

    /// <summary>16 contiguous floats (output rows a multiple of 16 wide).</summary>
    public readonly struct Contiguous : IPixelLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(float* p, int half) => Vector512.Load(p);
    }

    /// <summary>Two runs of 8: p .. p+7 and p+half .. p+half+7.</summary>
    public readonly struct Runs : IPixelLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(float* p, int half) => Vector512.Create(Vector256.Load(p), Vector256.Load(p + half));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    public static void Kernel10<TLoad>(int depth, float* a, float* image, int* offsets, int first, int firstHalf, int second, int secondHalf,
        float* c, int ldc, int rows, bool accumulate, float* bias = null) where TLoad : struct, IPixelLoad
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default;
        for (int p = 0; p < depth; p++)
        {
            float* src = image + offsets[3 * p];
            Vector512<float> b0 = TLoad.Load(src + first, firstHalf);
            Vector512<float> b1 = TLoad.Load(src + second, secondHalf);
            Vector512<float> av = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            av = Vector512.Create(a[8]);
            c80 = Vector512.FusedMultiplyAdd(av, b0, c80); c81 = Vector512.FusedMultiplyAdd(av, b1, c81);
            av = Vector512.Create(a[9]);
            c90 = Vector512.FusedMultiplyAdd(av, b0, c90); c91 = Vector512.FusedMultiplyAdd(av, b1, c91);
            a += 10;
        }
        if (bias != null)   // acc + bias[row]: the bits of accumulating onto a bias-filled tile, without the fill
        {
            Vector512<float> b0 = Vector512.Create(bias[0]); c00 += b0; c01 += b0;
            Vector512<float> b1 = Vector512.Create(bias[1]); c10 += b1; c11 += b1;
            Vector512<float> b2 = Vector512.Create(bias[2]); c20 += b2; c21 += b2;
            Vector512<float> b3 = Vector512.Create(bias[3]); c30 += b3; c31 += b3;
            Vector512<float> b4 = Vector512.Create(bias[4]); c40 += b4; c41 += b4;
            Vector512<float> b5 = Vector512.Create(bias[5]); c50 += b5; c51 += b5;
            Vector512<float> b6 = Vector512.Create(bias[6]); c60 += b6; c61 += b6;
            Vector512<float> b7 = Vector512.Create(bias[7]); c70 += b7; c71 += b7;
            Vector512<float> b8 = Vector512.Create(bias[8]); c80 += b8; c81 += b8;
            Vector512<float> b9 = Vector512.Create(bias[9]); c90 += b9; c91 += b9;
        }
        float beta = accumulate ? 1f : 0f;
        if (rows == 10)
        {
            GemmMicroKernels.Store512(c, c00, 1f, beta); GemmMicroKernels.Store512(c + 16, c01, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c10, 1f, beta); GemmMicroKernels.Store512(c + 16, c11, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c20, 1f, beta); GemmMicroKernels.Store512(c + 16, c21, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c30, 1f, beta); GemmMicroKernels.Store512(c + 16, c31, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c40, 1f, beta); GemmMicroKernels.Store512(c + 16, c41, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c50, 1f, beta); GemmMicroKernels.Store512(c + 16, c51, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c60, 1f, beta); GemmMicroKernels.Store512(c + 16, c61, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c70, 1f, beta); GemmMicroKernels.Store512(c + 16, c71, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c80, 1f, beta); GemmMicroKernels.Store512(c + 16, c81, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c90, 1f, beta); GemmMicroKernels.Store512(c + 16, c91, 1f, beta);
            return;
        }
        GemmMicroKernels.Edge512x10(c, ldc, rows, 32, 1f, beta, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    public static void Kernel8<TLoad>(int depth, float* a, float* image, int* offsets, int first, int firstHalf, int second, int secondHalf,
        float* c, int ldc, int rows, bool accumulate, float* bias = null) where TLoad : struct, IPixelLoad
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < depth; p++)
        {
            float* src = image + offsets[3 * p];
            Vector512<float> b0 = TLoad.Load(src + first, firstHalf);
            Vector512<float> b1 = TLoad.Load(src + second, secondHalf);
            Vector512<float> av = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            a += 8;
        }
        if (bias != null)   // acc + bias[row]: the bits of accumulating onto a bias-filled tile, without the fill
        {
            Vector512<float> b0 = Vector512.Create(bias[0]); c00 += b0; c01 += b0;
            Vector512<float> b1 = Vector512.Create(bias[1]); c10 += b1; c11 += b1;
            Vector512<float> b2 = Vector512.Create(bias[2]); c20 += b2; c21 += b2;
            Vector512<float> b3 = Vector512.Create(bias[3]); c30 += b3; c31 += b3;
            Vector512<float> b4 = Vector512.Create(bias[4]); c40 += b4; c41 += b4;
            Vector512<float> b5 = Vector512.Create(bias[5]); c50 += b5; c51 += b5;
            Vector512<float> b6 = Vector512.Create(bias[6]); c60 += b6; c61 += b6;
            Vector512<float> b7 = Vector512.Create(bias[7]); c70 += b7; c71 += b7;
        }
        float beta = accumulate ? 1f : 0f;
        if (rows == 8)
        {
            GemmMicroKernels.Store512(c, c00, 1f, beta); GemmMicroKernels.Store512(c + 16, c01, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c10, 1f, beta); GemmMicroKernels.Store512(c + 16, c11, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c20, 1f, beta); GemmMicroKernels.Store512(c + 16, c21, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c30, 1f, beta); GemmMicroKernels.Store512(c + 16, c31, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c40, 1f, beta); GemmMicroKernels.Store512(c + 16, c41, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c50, 1f, beta); GemmMicroKernels.Store512(c + 16, c51, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c60, 1f, beta); GemmMicroKernels.Store512(c + 16, c61, 1f, beta); c += ldc;
            GemmMicroKernels.Store512(c, c70, 1f, beta); GemmMicroKernels.Store512(c + 16, c71, 1f, beta);
            return;
        }
        Edge8(c, ldc, rows, beta, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    /// <summary>
    /// The AVX2 kernel: 6 output channels by a 16-pixel panel, as two runs of 8 contiguous floats at `first` and `second`
    /// (output rows a multiple of 8 wide), 12 accumulators of the 16 registers.
    /// </summary>
    // a: (depth, 6) packed; offsets: (depth, 3), the first entry each; c: (rows, 16) tile with row stride ldc
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    public static void Kernel256x6(int depth, float* a, float* image, int* offsets, int first, int second, float* c, int ldc, int rows, bool accumulate,
        float* bias = null)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
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
            av = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(av, b0, c40); c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(av, b0, c50); c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
            a += 6;
        }
        if (bias != null)   // acc + bias[row]: the bits of accumulating onto a bias-filled tile, without the fill
        {
            Vector256<float> b0 = Vector256.Create(bias[0]); c00 += b0; c01 += b0;
            Vector256<float> b1 = Vector256.Create(bias[1]); c10 += b1; c11 += b1;
            Vector256<float> b2 = Vector256.Create(bias[2]); c20 += b2; c21 += b2;
            Vector256<float> b3 = Vector256.Create(bias[3]); c30 += b3; c31 += b3;
            Vector256<float> b4 = Vector256.Create(bias[4]); c40 += b4; c41 += b4;
            Vector256<float> b5 = Vector256.Create(bias[5]); c50 += b5; c51 += b5;
        }
        float beta = accumulate ? 1f : 0f;
        if (rows == 6)
        {
            GemmMicroKernels.Store256(c, c00, 1f, beta); GemmMicroKernels.Store256(c + 8, c01, 1f, beta); c += ldc;
            GemmMicroKernels.Store256(c, c10, 1f, beta); GemmMicroKernels.Store256(c + 8, c11, 1f, beta); c += ldc;
            GemmMicroKernels.Store256(c, c20, 1f, beta); GemmMicroKernels.Store256(c + 8, c21, 1f, beta); c += ldc;
            GemmMicroKernels.Store256(c, c30, 1f, beta); GemmMicroKernels.Store256(c + 8, c31, 1f, beta); c += ldc;
            GemmMicroKernels.Store256(c, c40, 1f, beta); GemmMicroKernels.Store256(c + 8, c41, 1f, beta); c += ldc;
            GemmMicroKernels.Store256(c, c50, 1f, beta); GemmMicroKernels.Store256(c + 8, c51, 1f, beta);
            return;
        }
        float* tile = stackalloc float[6 * 16];
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24); c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56); c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
        GemmMicroKernels.StoreEdge(tile, 16, c, ldc, rows, 16, 1f, beta);
    }

    // The edge of an 8-row tile: through a scratch tile, the rows that exist.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Edge8(float* c, int ldc, int rows, float beta,
        Vector512<float> c00, Vector512<float> c01, Vector512<float> c10, Vector512<float> c11, Vector512<float> c20, Vector512<float> c21,
        Vector512<float> c30, Vector512<float> c31, Vector512<float> c40, Vector512<float> c41, Vector512<float> c50, Vector512<float> c51,
        Vector512<float> c60, Vector512<float> c61, Vector512<float> c70, Vector512<float> c71)
    {
        float* tile = stackalloc float[8 * 32];
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
        GemmMicroKernels.StoreEdge(tile, 32, c, ldc, rows, 32, 1f, beta);
    }
}
