using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Stride-1, dilation-1, ungrouped 3x3 and 5x5 convolutions by Winograd minimal filtering (Lavin and Gray, 2015),
/// F(4x4, 3x3) and F(4x4, 5x5): each 4x4 block of output pixels ("tile") is A^T [ (G g G^T) ⊙ (B^T d B) ] A, where d is
/// the tile's input patch (6x6 or 8x8) and g the kernel. F(4x4, 3x3) uses the points 0, ±1, ±2 and infinity; F(4x4, 5x5)
/// adds ±1/2 (the points of the F(6x6, 3x3) others use), with its own B^T (8x8), G (8x5) and A^T (4x8)
/// (<see cref="ConvolutionWinograd45Transforms"/>; bench/kernels/winograd_matrices.py derives the matrices). The 36 (64)
/// elementwise products of a tile, summed over input channels, are as many independent matrix products
/// (K x C) x (C x tiles): 36 x K x C multiply-adds per 16 output pixels instead of 144 x K x C (3x3), 64 instead of
/// 400 x K x C (5x5). (F(2x2, 5x5), 36 per 4 pixels, ran here until the seventeenth performance pass: F(4x4, 5x5) took
/// 0.47-0.65x its time on cifar10_quick's conv2 and conv3, forward and backward-data; its error is 33-40 units of
/// 2^-24 sum |w||x| on those shapes, against 21-22, within F(4x4, 3x3)'s 42-64.)
/// Channels are carried in blocks of 16 (the lanes of every transform and of the GEMM's columns), so every load and
/// store of the transforms is a whole vector, whatever the image width:
/// <list type="number">
/// <item>weights, once per call: U[pos][c][k] = (G g_kc G^T)[pos], in double, rounded once, in 16-channel panels (<see cref="TransformWeights"/>);</item>
/// <item>per block of tiles (sized so V and M stay in L2): input rows copied channel-blocked into a zero-bordered buffer,
/// V[pos][tile][c] = (B^T d B)[pos];</item>
/// <item>M[pos][tile][k] = sum over c of V[pos][tile][c] U[pos][c][k] (<see cref="ConvolutionWinogradKernels"/>);</item>
/// <item>y = A^T M A + bias, ReLU if asked, written out pixel by pixel (edge tiles cut to the image).</item>
/// </list>
/// Every value goes through the same operations whichever block or thread computes it: results are identical for
/// any <see cref="KernelThreads.Count"/>. The transforms round differently from a direct sum (their coefficients
/// reach 8 and 1/24): see ConvolutionWinogradTests for the measured error. AVX-512 or AVX2 only; no scalar path
/// (<see cref="Applies"/> is false there and the caller keeps its other paths).
/// </summary>
internal static unsafe class ConvolutionWinograd
{
    internal const int Lanes = 16;          // channels per block (one Vector512, two Vector256)
    internal const int Positions = 36;      // 6x6 transformed tile (F(4x4, 3x3))
    internal const int RowTile = 12;        // tiles per GEMM micro-tile (rows); blocks are multiples of it

    /// <summary>Whether the Winograd path may run (tests compare it with the other paths).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// True when the geometry is one Winograd F(4x4, 3x3) or F(4x4, 5x5) computes: 3x3 or 5x5, stride 1, dilation 1,
    /// groups 1, AVX2 or wider.
    /// </summary>
    public static bool Supports(in Conv2dGeometry g) =>
        Enabled && SimdWidth.Allows256(SimdWidth.Max) && g.Groups == 1 && g.KernelHeight == g.KernelWidth && g.KernelHeight is 3 or 5
        && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1;

    /// <summary>True when backward-data (the forward of the flipped convolution, padding kernel - 1 - pad) can run here.</summary>
    public static bool SupportsBackwardData(in Conv2dGeometry g) =>
        Supports(g) && g.PadHeight <= g.KernelHeight - 1 && g.PadWidth <= g.KernelWidth - 1;

    /// <summary>Output pixels per tile side, for both kernel sizes.</summary>
    internal const int TileStep = 4;

    /// <summary>Positions of a transformed tile: its input patch's side (TileStep + kernel - 1) squared, 36 or 64.</summary>
    internal static int PositionsOf(int kernel) => (TileStep + kernel - 1) * (TileStep + kernel - 1);

    /// <summary>
    /// Where forward runs faster than the direct and implicit-GEMM paths (measured with bench/ab, 2 threads, AVX-512):
    /// at least 32 channels on both sides, so that the transforms' cost per tile (growing with C + K) is small beside the
    /// 36 products (growing with C K). ResNet's 16-channel layers ran no faster than the direct path (0.97x forward,
    /// 1.0x backward-data; after the output went out in runs of tiles, 0.91x forward with a bias, 0.98-1.0x backward-data,
    /// which is forward without one, 1 thread, CPU time: the write of y, the transforms and the layout changes cost as much
    /// as the products saved), its 32- and 64-channel ones 0.5-0.7x and 0.37-0.5x. Channel counts that are not
    /// multiples of 16 (padded blocks, not measured) keep the other paths. 5x5 (cifar10_quick's conv2 32->32 at 16x16 and
    /// conv3 32->64 at 8x8, batch 100) ran 0.42-0.47x and 0.16-0.26x the direct path's best time forward, 0.46-0.47x and
    /// 0.54-0.57x backward-data (two runs; medians 0.36-0.90x, the machine loaded 33-45 on 2 cores); conv1's 3 input
    /// channels keep the direct path.
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) => Supports(g) && Pays(g.InChannels, g.OutChannels) && EnoughTiles(g);

    /// <summary>Where backward-data (a forward from K channels to C) runs faster than the other paths.</summary>
    public static bool AppliesToBackwardData(in Conv2dGeometry g) => SupportsBackwardData(g) && Pays(g.OutChannels, g.InChannels) && EnoughTiles(g);

    // The weight transform (about 40 instructions per (c, k) pair) is paid once per call and saves about 7 per pair and
    // tile: with few tiles (batch 1 on 8x8 or 16x16 planes) it costs more than it saves. At batch 1, 64 tiles (32x32)
    // ran 0.87-0.93x the direct path's median time but with a worse best time; 256 tiles (64x64) 0.71x.
    // (Measured for 3x3 only; 5x5 saves 336 products per pair and tile, 3x3 108, but its weight transform costs more.)
    private static bool EnoughTiles(in Conv2dGeometry g) =>
        (long)g.Batch * ((g.InHeight + TileStep - 1) / TileStep) * ((g.InWidth + TileStep - 1) / TileStep) >= MinTiles;

    private const int MinTiles = 128;

    // Input and output channels that fill their 16-lane blocks and give the GEMM enough depth. 16 channels pay only
    // on AVX2: there the direct kernel splits 16 output rows into 6 + 6 + 4 and ran ResNet-20's 16->16 layers at 2.1-2.7x
    // its AVX-512 time, while Winograd took 0.45x the direct path's time (forward and backward-data); with AVX-512 the
    // direct path stays level with Winograd at 16 channels (0.91-1.0x) and keeps them.
    private static bool Pays(int inChannels, int outChannels)
    {
        int least = SimdWidth.Max >= 512 ? 32 : 16;
        return inChannels >= least && outChannels >= least && inChannels % Lanes == 0 && outChannels % Lanes == 0;
    }

    // x: (N, C, H, W); weight: (K, C, r, r) with r = 3 or 5; bias: (K) or null; y: (N, K, OH, OW) overwritten. Needs Supports.
    public static void Forward(in Conv2dGeometry g, float* x, float* weight, float* bias, float* y, bool relu = false) =>
        Run(g, x, weight, false, bias, y, relu);

    // dy: (N, K, OH, OW); weight: (K, C, r, r); dx: (N, C, H, W) overwritten. Needs SupportsBackwardData.
    public static void BackwardData(in Conv2dGeometry g, float* dy, float* weight, float* dx) =>
        Run(ConvolutionDirect.Flipped(g), dy, weight, true, null, dx, false);

    // flipped: weight is the (C, K, r, r) kernel of the convolution whose forward this is the backward-data of.
    private static void Run(in Conv2dGeometry g, float* x, float* weight, bool flipped, float* bias, float* y, bool relu)
    {
        var plan = new WinogradPlan(g);
        var u = ScratchArena.Shared.Rent((long)plan.Positions * plan.Cp * plan.Kp + Lanes);
        float[] biasPadded = ArrayPool<float>.Shared.Rent(plan.Kp);
        try
        {
            fixed (float* pb = biasPadded)
            {
                float* pu = u.Pointer;
                TransformWeights(plan, weight, flipped, pu);
                new Span<float>(pb, plan.Kp).Clear();
                if (bias is not null) new ReadOnlySpan<float>(bias, g.OutChannels).CopyTo(new Span<float>(pb, plan.Kp));
                nint ix = (nint)x, iu = (nint)pu, ib = (nint)pb, iy = (nint)y;
                int width = SimdWidth.Max;
                KernelThreads.For(plan.Blocks, (s, e) =>
                    ConvolutionWinogradTransforms.Blocks(plan, width, s, e, (float*)ix, (float*)iu, (float*)ib, (float*)iy, relu));
            }
        }
        finally
        {
            ScratchArena.Shared.Return(u);
            ArrayPool<float>.Shared.Return(biasPadded);
        }
    }

    /// <summary>
    /// U[pos][k / 16][c][k % 16] = (G g G^T)[pos] for g = weight[k, c] (or, flipped, weight[c, k] turned 180 degrees), in
    /// double and rounded once; zero where c >= C or k >= K. Each 16-channel block of a position is one contiguous
    /// (Cp, 16) panel, read row by row by the GEMM (rows Kp floats apart would share a few L1 sets). Four output
    /// channels per vector of doubles (one at a time, VGG's 256x256 layer spent as long here as in the products).
    /// Threads split (block, input channel) pairs.
    /// </summary>
    // weight: (K, C, r, r), or (C, K, r, r) when flipped; u: (36, Kp/16, Cp, 16) overwritten
    internal static void TransformWeights(in WinogradPlan plan, float* weight, bool flipped, float* u)
    {
        int c = plan.C, k = plan.K, cp = plan.Cp, r = plan.Kernel, blocks = plan.Kp / Lanes;
        long posStride = (long)cp * plan.Kp, blockStride = (long)cp * Lanes;
        nint iw = (nint)weight, iu = (nint)u;
        KernelThreads.For(blocks * cp, (s, e) => TransformWeightUnits(c, k, cp, r, posStride, blockStride, s, e, (float*)iw, flipped, (float*)iu));
    }

    // Units [s, e) of TransformWeights: unit = (16-channel output block, input channel); r: the kernel's side, 3 or 5.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformWeightUnits(int c, int k, int cp, int r, long posStride, long blockStride, int s, int e, float* weight, bool flipped, float* u)
    {
        {
            int taps = r * r;
            double* g = stackalloc double[taps * Lanes];         // g[i][lane]: the 16 output channels' kernels
            var t = new Vector256<double>[(r == 3 ? 6 : 8) * r]; // G g, 6 x 3 or 8 x 5, for 4 lanes
            for (int unit = s; unit < e; unit++)
            {
                int kb = unit / cp, cc = unit % cp;
                for (int l = 0; l < Lanes; l++)
                {
                    int kk = kb * Lanes + l;
                    float* src = flipped ? weight + ((long)cc * k + kk) * taps : weight + ((long)kk * c + cc) * taps;
                    bool real = kk < k && cc < c;
                    for (int i = 0; i < taps; i++) g[i * Lanes + l] = real ? src[flipped ? taps - 1 - i : i] : 0.0;
                }
                float* dst = u + kb * blockStride + (long)cc * Lanes;
                // t (6 x r) = G g: each column of g through G; then U (6x6) = t G^T: each row of t through G, rounded to
                // float once. One loop per kernel size: a loop over r taps through a span measured 1.03-1.15x the time of
                // this form on VGG's 256x256 layer (bench/ab, load about 30 on 2 cores).
                for (int q = 0; q < Lanes; q += 4)
                    if (r == 3)
                    {
                        for (int j = 0; j < 3; j++)
                            Filter(Vector256.Load(g + j * Lanes + q), Vector256.Load(g + (3 + j) * Lanes + q), Vector256.Load(g + (6 + j) * Lanes + q),
                                out t[j], out t[3 + j], out t[6 + j], out t[9 + j], out t[12 + j], out t[15 + j]);
                        for (int a = 0; a < 6; a++)
                        {
                            Filter(t[3 * a], t[3 * a + 1], t[3 * a + 2], out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
                            StoreRow(dst + (a * 6) * posStride + q, posStride, u0, u1, u2, u3, u4, u5);
                        }
                    }
                    else
                    {
                        // F(4x4, 5x5): t (8 x 5) = G g, then U (8x8) = t G^T.
                        for (int j = 0; j < 5; j++)
                            Filter8(Vector256.Load(g + j * Lanes + q), Vector256.Load(g + (5 + j) * Lanes + q), Vector256.Load(g + (10 + j) * Lanes + q),
                                Vector256.Load(g + (15 + j) * Lanes + q), Vector256.Load(g + (20 + j) * Lanes + q),
                                out t[j], out t[5 + j], out t[10 + j], out t[15 + j], out t[20 + j], out t[25 + j], out t[30 + j], out t[35 + j]);
                        for (int a = 0; a < 8; a++)
                        {
                            Filter8(t[5 * a], t[5 * a + 1], t[5 * a + 2], t[5 * a + 3], t[5 * a + 4],
                                out var u0, out var u1, out var u2, out var u3, out var u4, out var u5, out var u6, out var u7);
                            StoreRow(dst + (a * 8) * posStride + q, posStride, u0, u1, u2, u3, u4, u5);
                            StoreFour(u6, dst + (a * 8 + 6) * posStride + q);
                            StoreFour(u7, dst + (a * 8 + 7) * posStride + q);
                        }
                    }
            }
        }
    }

    // One row of U: positions 6a..6a+5 (posStride floats apart), 4 output channels each.
    private static void StoreRow(float* row, long posStride, Vector256<double> u0, Vector256<double> u1, Vector256<double> u2,
        Vector256<double> u3, Vector256<double> u4, Vector256<double> u5)
    {
        StoreFour(u0, row); StoreFour(u1, row + posStride); StoreFour(u2, row + 2 * posStride);
        StoreFour(u3, row + 3 * posStride); StoreFour(u4, row + 4 * posStride); StoreFour(u5, row + 5 * posStride);
    }

    // G (6x3) times (g0, g1, g2), 4 lanes of doubles: G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
    private static void Filter(Vector256<double> g0, Vector256<double> g1, Vector256<double> g2, out Vector256<double> o0, out Vector256<double> o1,
        out Vector256<double> o2, out Vector256<double> o3, out Vector256<double> o4, out Vector256<double> o5)
    {
        Vector256<double> s = g0 + g2, q = g0 / 24 + g2 / 6, r = g1 / 12;
        o0 = g0 / 4;
        o1 = -(s + g1) / 6;
        o2 = -(s - g1) / 6;
        o3 = q + r;
        o4 = q - r;
        o5 = g2;
    }

    // F(4x4, 5x5)'s G (8x5) times (g0..g4), 4 lanes of doubles: rows 1-6 Lagrange's at the points ±1, ±2, ±1/2, the first
    // row (point 0) negated to match B^T's first row (ConvolutionWinograd45Transforms), the last the point at infinity:
    // G = [1 0 0 0 0; -2/9 -2/9 -2/9 -2/9 -2/9; -2/9 2/9 -2/9 2/9 -2/9; 1/90 1/45 2/45 4/45 8/45; 1/90 -1/45 2/45 -4/45 8/45;
    //      32/45 16/45 8/45 4/45 2/45; 32/45 -16/45 8/45 -4/45 2/45; 0 0 0 0 1]
    private static void Filter8(Vector256<double> g0, Vector256<double> g1, Vector256<double> g2, Vector256<double> g3, Vector256<double> g4,
        out Vector256<double> o0, out Vector256<double> o1, out Vector256<double> o2, out Vector256<double> o3, out Vector256<double> o4,
        out Vector256<double> o5, out Vector256<double> o6, out Vector256<double> o7)
    {
        Vector256<double> even = g0 + g2 + g4, odd = g1 + g3;
        Vector256<double> q = g0 / 90 + g2 * 2 / 45 + g4 * 8 / 45, r = g1 / 45 + g3 * 4 / 45;
        Vector256<double> q2 = g0 * 32 / 45 + g2 * 8 / 45 + g4 * 2 / 45, r2 = g1 * 16 / 45 + g3 * 4 / 45;
        o0 = g0;
        o1 = -(even + odd) * 2 / 9;
        o2 = -(even - odd) * 2 / 9;
        o3 = q + r;
        o4 = q - r;
        o5 = q2 + r2;
        o6 = q2 - r2;
        o7 = g4;
    }

    private static void StoreFour(Vector256<double> v, float* dst) => Vector128.Narrow(v.GetLower(), v.GetUpper()).Store(dst);
}

/// <summary>
/// The layouts of a Winograd forward's input and output: (N, C, H, W) planes, or the 16-channel pixels the transforms
/// work in, (N, C/16, H, W, 16), which a pair of kept-weight convolutions passes between them (<see cref="Nn.Conv2d.ForwardReluThen"/>).
/// </summary>
[Flags]
internal enum WinogradIo
{
    Planes = 0,
    BlockedInput = 1,
    BlockedOutput = 2,
}

/// <summary>
/// The sizes one Winograd call works with: channels padded to whole blocks, tiles (Step x Step output pixels, each read
/// from the 6x6 input patch at Step times its index), and blocks of tiles.
/// </summary>
internal readonly struct WinogradPlan
{
    public readonly int C, K, Cp, Kp, H, W, PadH, PadW, OH, OW, TilesH, TilesW, Hp, Wp, TilesPerImage, Tiles, BlockTiles, Blocks;

    /// <summary>The kernel's side (3 or 5), the output tile's (4), the input patch's (Step + Kernel - 1: 6 or 8) and the
    /// transformed tile's positions (Patch squared: 36 or 64).</summary>
    public readonly int Kernel, Step, Patch, Positions;

    public WinogradPlan(in Conv2dGeometry g)
    {
        const int lanes = ConvolutionWinograd.Lanes, rowTile = ConvolutionWinograd.RowTile;
        C = g.InChannels; K = g.OutChannels;
        Cp = (C + lanes - 1) / lanes * lanes;
        Kp = (K + lanes - 1) / lanes * lanes;
        H = g.InHeight; W = g.InWidth; PadH = g.PadHeight; PadW = g.PadWidth;
        OH = g.OutHeight; OW = g.OutWidth;
        Kernel = g.KernelHeight; Step = ConvolutionWinograd.TileStep;
        Patch = Step + Kernel - 1; Positions = ConvolutionWinograd.PositionsOf(Kernel);
        TilesH = (OH + Step - 1) / Step; TilesW = (OW + Step - 1) / Step;
        // The padded image the tiles read: every tile's Patch x Patch input lies inside it (zeros past the image).
        Hp = Step * TilesH + Kernel - 1; Wp = Step * TilesW + Kernel - 1;
        TilesPerImage = TilesH * TilesW;
        Tiles = g.Batch * TilesPerImage;
        long perTile = 4L * Positions * (Cp + Kp);
        int block = (int)Math.Clamp(ConvolutionWinogradBudget / perTile / rowTile * rowTile, rowTile, 240);
        // Each block reads all of U (Positions Cp Kp floats) once: with wide layers that outweighs V and M leaving L2, so
        // blocks grow until U's share per tile is at most about V's and M's (VGG's 256x256 layer: 12 -> 72 tiles).
        int forU = (int)Math.Min(240, ((long)Cp * Kp / (2L * (Cp + Kp)) + rowTile - 1) / rowTile * rowTile);
        block = Math.Max(block, forU);
        int rounded = (Tiles + rowTile - 1) / rowTile * rowTile;
        block = Math.Min(block, rounded);
        // Enough blocks for every thread, as even as the rows allow (no bits depend on the block size: each output sums the
        // same products in order). AVX-512 runs a block's last rows four at a time, so its shares are whole fours: a
        // batch-1 16x16 plane's 16 tiles split 8 and 8, where whole 12-row micro-tiles split them 12 and 4.
        int threads = KernelThreads.InWorker ? 1 : KernelThreads.Count;   // a call on one thread (nested, or serial by choice) takes one block
        if ((Tiles + block - 1) / block < threads)
        {
            int rows = SimdWidth.Max >= 512 ? 4 : rowTile;
            block = Math.Max(rows, ((Tiles + threads - 1) / threads + rows - 1) / rows * rows);
        }
        BlockTiles = block;
        Blocks = (Tiles + block - 1) / block;
    }

    // Bytes of V + M per block: about 3/8 of this EPYC's 1 MiB L2, so that U (up to 590 KB at 64 channels) and the
    // block's input rows stay beside them. At 1 MiB (sized for a 2 MiB L2) 2 threads ran cifar10_quick's conv3 and
    // ResNet-20's 64-channel layer 1.3-1.4x slower forward (bench/ab, 384 KB against 1 MiB; 1 thread 0.80-0.95x).
    private const long ConvolutionWinogradBudget = 384L << 10;

    /// <summary>
    /// Floats from one position's (blockTiles, channels) matrix of V, M or W to the next: one 16-float line more than the
    /// matrix, so that a tile's 36 or 64 positions, written (V, W) or read (M) together, fall in different L1 sets. Without
    /// it, 64 tiles of 32 channels put the positions 8 KB apart, all in one set of this EPYC's 48 KB L1 (64 sets of
    /// 12 lines): the F(4x4, 5x5) weight gradient of cifar10_quick's conv2 ran 1.7x (1 thread) to 2.3x (2) slower than
    /// with one line more.
    /// </summary>
    public static long PositionStride(int blockTiles, int channels) => (long)blockTiles * channels + ConvolutionWinograd.Lanes;
}
