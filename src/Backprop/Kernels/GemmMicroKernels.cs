using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Register-tiled GEMM micro-kernels: each computes an MR x NR tile of C from a packed A panel
/// (depth x MR) and a packed B panel (depth x NR), as acc = sum over p of a[p] * b[p] with one fused
/// multiply-add per step, then C = alpha * acc + beta * C (beta == 0: C = alpha * acc).
/// Every element of C goes through the same operations whether its tile is full or an edge tile,
/// so results do not depend on how the matrix is split between threads.
/// <para>
/// The hot AVX-512 kernels here and in the convolutions are marked AggressiveOptimization: compiled fully
/// at their first call instead of going through tier 0 and an instrumented tier, where each vector
/// operation is a call and a training run's first ~25 iterations ran 10x slower (about 1 s of a LeNet
/// run). Only kernels whose fully optimized code keeps every accumulator in registers without profile
/// data get it (check with DOTNET_JitDisasm: no vector loads or stores at [rbp-...] in the loop); helpers
/// they call are AggressiveInlining, since a call inside would make the accumulators spill.
/// </para>
/// </summary>
internal static unsafe class GemmMicroKernels
{
    public const int Mr = 6;

    /// <summary>
    /// Rows of the taller AVX-512 tile (<see cref="Kernel512x10"/>, 20 accumulators of the 32 registers), for
    /// matrices whose row count 10 divides better than 6 (a convolution's 20 or 50 output channels).
    /// </summary>
    public const int TallMr = 10;
    public const int ScalarMr = 4;
    public const int ScalarNr = 4;

    /// <summary>Rows and columns of the tile for a SIMD width in bits.</summary>
    public static (int Mr, int Nr) TileFor(int width) => width switch
    {
        512 => (Mr, 32),
        256 => (Mr, 16),
        128 => (Mr, 8),
        _ => (ScalarMr, ScalarNr),
    };

    /// <summary>Runs the micro-kernel of the given SIMD width (the one <see cref="TileFor"/> sized the panels for).</summary>
    // a: (depth, mr) packed; b: (depth, nr) packed; c: (rows, cols) tile with row stride ldc
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int width, int depth, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        switch (width)
        {
            case 512: Kernel512(depth, a, b, c, ldc, rows, cols, alpha, beta); break;
            case 256: Kernel256(depth, a, b, c, ldc, rows, cols, alpha, beta); break;
            case 128: Kernel128(depth, a, b, c, ldc, rows, cols, alpha, beta); break;
            default: KernelScalar(depth, a, b, c, ldc, rows, cols, alpha, beta); break;
        }
    }

    // a: (depth, 6) packed; b: (depth, 32) packed; c: (rows, cols) tile with row stride ldc
    public static void Kernel512(int depth, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        PrefetchTile(c, ldc, rows);
        for (int p = 0; p < depth; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
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
            a += 6;
            b += 32;
        }
        if (rows == 6 && cols == 32)
        {
            Store512(c, c00, alpha, beta); Store512(c + 16, c01, alpha, beta); c += ldc;
            Store512(c, c10, alpha, beta); Store512(c + 16, c11, alpha, beta); c += ldc;
            Store512(c, c20, alpha, beta); Store512(c + 16, c21, alpha, beta); c += ldc;
            Store512(c, c30, alpha, beta); Store512(c + 16, c31, alpha, beta); c += ldc;
            Store512(c, c40, alpha, beta); Store512(c + 16, c41, alpha, beta); c += ldc;
            Store512(c, c50, alpha, beta); Store512(c + 16, c51, alpha, beta);
            return;
        }
        float* tile = stackalloc float[6 * 32];
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        StoreEdge(tile, 32, c, ldc, rows, cols, alpha, beta);
    }

    /// <summary>True when the <see cref="TallMr"/>-row tile pads <paramref name="rows"/> less than the usual one at this width.</summary>
    public static bool PrefersTall(int width, int rows) =>
        width == 512 && (rows + TallMr - 1) / TallMr * TallMr < (rows + Mr - 1) / Mr * Mr;

    // a: (depth, 10) packed; b: (depth, 32) packed; c: (rows, cols) tile with row stride ldc
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (class comment)
    public static void Kernel512x10(int depth, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        Tall512(depth, a, b, c, ldc, rows, cols, alpha, beta, prefetchB: false);

    /// <summary>
    /// <see cref="Kernel512x10"/> for a B panel read from L2 (the blocked product's order): it also asks for B's lines 16
    /// steps ahead, which the hardware prefetcher alone left late (2048^3 about 4-7% faster).
    /// </summary>
    // Not inlined into the blocked loops: there the loop nest's counters pushed the depth counter out of its register
    // (a reload each step); a call costs nothing against a 256-step loop.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static void Kernel512x10StreamB(int depth, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta) =>
        Tall512(depth, a, b, c, ldc, rows, cols, alpha, beta, prefetchB: true);

    // prefetchB is a constant at each call site, so each caller compiles to its own loop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tall512(int depth, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta, bool prefetchB)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default;
        PrefetchTile(c, ldc, rows);
        // With B streaming through L1 (32 KB a panel of the 48 KB), the C lines asked for above are gone again by the end of
        // a long loop (the rows of C, 8 KB apart at 2048 columns, share the same few L1 sets): ask again 16 steps before it.
        int late = prefetchB ? depth - 16 : -1;
        for (int p = 0; p < depth; p++)
        {
            if (prefetchB)
            {
                // Past the panel's end on the last steps: a prefetch never faults.
                Sse.Prefetch0(b + 512);
                Sse.Prefetch0(b + 528);
                if (p == late) PrefetchTile(c, ldc, rows);
            }
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
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
            b += 32;
        }
        if (rows == 10 && cols == 32 && alpha == 1f && beta == 1f)
        {
            // Every depth block after the first of a blocked product: C += acc (the general case's bits, without its
            // multiplies by one and its test of beta on each of the 20 stores).
            Add512(c, c00); Add512(c + 16, c01); c += ldc;
            Add512(c, c10); Add512(c + 16, c11); c += ldc;
            Add512(c, c20); Add512(c + 16, c21); c += ldc;
            Add512(c, c30); Add512(c + 16, c31); c += ldc;
            Add512(c, c40); Add512(c + 16, c41); c += ldc;
            Add512(c, c50); Add512(c + 16, c51); c += ldc;
            Add512(c, c60); Add512(c + 16, c61); c += ldc;
            Add512(c, c70); Add512(c + 16, c71); c += ldc;
            Add512(c, c80); Add512(c + 16, c81); c += ldc;
            Add512(c, c90); Add512(c + 16, c91);
            return;
        }
        if (rows == 10 && cols == 32 && alpha == 1f && beta == 0f)
        {
            // The first depth block: C = acc.
            c00.Store(c); c01.Store(c + 16); c += ldc;
            c10.Store(c); c11.Store(c + 16); c += ldc;
            c20.Store(c); c21.Store(c + 16); c += ldc;
            c30.Store(c); c31.Store(c + 16); c += ldc;
            c40.Store(c); c41.Store(c + 16); c += ldc;
            c50.Store(c); c51.Store(c + 16); c += ldc;
            c60.Store(c); c61.Store(c + 16); c += ldc;
            c70.Store(c); c71.Store(c + 16); c += ldc;
            c80.Store(c); c81.Store(c + 16); c += ldc;
            c90.Store(c); c91.Store(c + 16);
            return;
        }
        if (rows == 10 && cols == 32)
        {
            Store512(c, c00, alpha, beta); Store512(c + 16, c01, alpha, beta); c += ldc;
            Store512(c, c10, alpha, beta); Store512(c + 16, c11, alpha, beta); c += ldc;
            Store512(c, c20, alpha, beta); Store512(c + 16, c21, alpha, beta); c += ldc;
            Store512(c, c30, alpha, beta); Store512(c + 16, c31, alpha, beta); c += ldc;
            Store512(c, c40, alpha, beta); Store512(c + 16, c41, alpha, beta); c += ldc;
            Store512(c, c50, alpha, beta); Store512(c + 16, c51, alpha, beta); c += ldc;
            Store512(c, c60, alpha, beta); Store512(c + 16, c61, alpha, beta); c += ldc;
            Store512(c, c70, alpha, beta); Store512(c + 16, c71, alpha, beta); c += ldc;
            Store512(c, c80, alpha, beta); Store512(c + 16, c81, alpha, beta); c += ldc;
            Store512(c, c90, alpha, beta); Store512(c + 16, c91, alpha, beta);
            return;
        }
        Edge512x10(c, ldc, rows, cols, alpha, beta, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91);
    }

    // The edge of a 10-row tile: through a scratch tile, the elements that exist.
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Edge512x10(float* c, int ldc, int rows, int cols, float alpha, float beta,
        Vector512<float> c00, Vector512<float> c01, Vector512<float> c10, Vector512<float> c11, Vector512<float> c20, Vector512<float> c21,
        Vector512<float> c30, Vector512<float> c31, Vector512<float> c40, Vector512<float> c41, Vector512<float> c50, Vector512<float> c51,
        Vector512<float> c60, Vector512<float> c61, Vector512<float> c70, Vector512<float> c71, Vector512<float> c80, Vector512<float> c81,
        Vector512<float> c90, Vector512<float> c91)
    {
        float* tile = stackalloc float[10 * 32];
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
        c80.Store(tile + 256); c81.Store(tile + 272); c90.Store(tile + 288); c91.Store(tile + 304);
        StoreEdge(tile, 32, c, ldc, rows, cols, alpha, beta);
    }

    // a: (depth, 6) packed; b: (depth, 16) packed; c: (rows, cols) tile with row stride ldc
    public static void Kernel256(int depth, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        PrefetchTile16(c, ldc, rows);
        for (int p = 0; p < depth; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);
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
            b += 16;
        }
        if (rows == 6 && cols == 16)
        {
            Store256(c, c00, alpha, beta); Store256(c + 8, c01, alpha, beta); c += ldc;
            Store256(c, c10, alpha, beta); Store256(c + 8, c11, alpha, beta); c += ldc;
            Store256(c, c20, alpha, beta); Store256(c + 8, c21, alpha, beta); c += ldc;
            Store256(c, c30, alpha, beta); Store256(c + 8, c31, alpha, beta); c += ldc;
            Store256(c, c40, alpha, beta); Store256(c + 8, c41, alpha, beta); c += ldc;
            Store256(c, c50, alpha, beta); Store256(c + 8, c51, alpha, beta);
            return;
        }
        float* tile = stackalloc float[6 * 16];
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
        StoreEdge(tile, 16, c, ldc, rows, cols, alpha, beta);
    }

    // a: (depth, 6) packed; b: (depth, 8) packed; c: (rows, cols) tile with row stride ldc
    public static void Kernel128(int depth, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < depth; p++)
        {
            Vector128<float> b0 = Vector128.Load(b);
            Vector128<float> b1 = Vector128.Load(b + 4);
            Vector128<float> av = Vector128.Create(a[0]);
            c00 = Vector128.FusedMultiplyAdd(av, b0, c00); c01 = Vector128.FusedMultiplyAdd(av, b1, c01);
            av = Vector128.Create(a[1]);
            c10 = Vector128.FusedMultiplyAdd(av, b0, c10); c11 = Vector128.FusedMultiplyAdd(av, b1, c11);
            av = Vector128.Create(a[2]);
            c20 = Vector128.FusedMultiplyAdd(av, b0, c20); c21 = Vector128.FusedMultiplyAdd(av, b1, c21);
            av = Vector128.Create(a[3]);
            c30 = Vector128.FusedMultiplyAdd(av, b0, c30); c31 = Vector128.FusedMultiplyAdd(av, b1, c31);
            av = Vector128.Create(a[4]);
            c40 = Vector128.FusedMultiplyAdd(av, b0, c40); c41 = Vector128.FusedMultiplyAdd(av, b1, c41);
            av = Vector128.Create(a[5]);
            c50 = Vector128.FusedMultiplyAdd(av, b0, c50); c51 = Vector128.FusedMultiplyAdd(av, b1, c51);
            a += 6;
            b += 8;
        }
        if (rows == 6 && cols == 8)
        {
            Store128(c, c00, alpha, beta); Store128(c + 4, c01, alpha, beta); c += ldc;
            Store128(c, c10, alpha, beta); Store128(c + 4, c11, alpha, beta); c += ldc;
            Store128(c, c20, alpha, beta); Store128(c + 4, c21, alpha, beta); c += ldc;
            Store128(c, c30, alpha, beta); Store128(c + 4, c31, alpha, beta); c += ldc;
            Store128(c, c40, alpha, beta); Store128(c + 4, c41, alpha, beta); c += ldc;
            Store128(c, c50, alpha, beta); Store128(c + 4, c51, alpha, beta);
            return;
        }
        float* tile = stackalloc float[6 * 8];
        c00.Store(tile); c01.Store(tile + 4); c10.Store(tile + 8); c11.Store(tile + 12);
        c20.Store(tile + 16); c21.Store(tile + 20); c30.Store(tile + 24); c31.Store(tile + 28);
        c40.Store(tile + 32); c41.Store(tile + 36); c50.Store(tile + 40); c51.Store(tile + 44);
        StoreEdge(tile, 8, c, ldc, rows, cols, alpha, beta);
    }

    // a: (depth, 4) packed; b: (depth, 4) packed; c: (rows, cols) tile with row stride ldc
    public static void KernelScalar(int depth, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        float* tile = stackalloc float[ScalarMr * ScalarNr];
        for (int t = 0; t < ScalarMr * ScalarNr; t++) tile[t] = 0f;
        for (int p = 0; p < depth; p++)
        {
            for (int ii = 0; ii < ScalarMr; ii++)
            {
                float av = a[ii];
                float* row = tile + ii * ScalarNr;
                row[0] = MathF.FusedMultiplyAdd(av, b[0], row[0]);
                row[1] = MathF.FusedMultiplyAdd(av, b[1], row[1]);
                row[2] = MathF.FusedMultiplyAdd(av, b[2], row[2]);
                row[3] = MathF.FusedMultiplyAdd(av, b[3], row[3]);
            }
            a += ScalarMr;
            b += ScalarNr;
        }
        StoreEdge(tile, ScalarNr, c, ldc, rows, cols, alpha, beta);
    }

    /// <summary>
    /// Asks for the C tile's lines (32 floats a row: up to 3 lines when not 64-byte aligned) before the depth loop, so
    /// that they arrive from L3 or memory while the loop runs instead of stalling the stores at its end. A hint only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchTile(float* c, int ldc, int rows)
    {
        if (!Sse.IsSupported) return;
        for (int ii = 0; ii < rows; ii++)
        {
            float* row = c + (long)ii * ldc;
            Sse.Prefetch0(row);
            Sse.Prefetch0(row + 16);
            Sse.Prefetch0(row + 31);
        }
    }

    /// <summary>The 16-float rows of the 256-bit tile: up to 2 lines each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchTile16(float* c, int ldc, int rows)
    {
        if (!Sse.IsSupported) return;
        for (int ii = 0; ii < rows; ii++)
        {
            float* row = c + (long)ii * ldc;
            Sse.Prefetch0(row);
            Sse.Prefetch0(row + 15);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store512(float* c, Vector512<float> acc, float alpha, float beta)
    {
        Vector512<float> v = acc * alpha;
        if (beta != 0f) v += Vector512.Load(c) * beta;
        v.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add512(float* c, Vector512<float> acc) => (acc + Vector512.Load(c)).Store(c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store256(float* c, Vector256<float> acc, float alpha, float beta)
    {
        Vector256<float> v = acc * alpha;
        if (beta != 0f) v += Vector256.Load(c) * beta;
        v.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* c, Vector128<float> acc, float alpha, float beta)
    {
        Vector128<float> v = acc * alpha;
        if (beta != 0f) v += Vector128.Load(c) * beta;
        v.Store(c);
    }

    // tile: (rows, ld) accumulators; c: (rows, cols) with row stride ldc
    internal static void StoreEdge(float* tile, int ld, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        for (int ii = 0; ii < rows; ii++)
        {
            float* crow = c + (long)ii * ldc;
            float* trow = tile + ii * ld;
            if (beta == 0f)
            {
                for (int jj = 0; jj < cols; jj++) crow[jj] = trow[jj] * alpha;
            }
            else
            {
                for (int jj = 0; jj < cols; jj++) crow[jj] = trow[jj] * alpha + crow[jj] * beta;
            }
        }
    }
}
