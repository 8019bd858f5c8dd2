using System.Buffers;
using System.Diagnostics;

namespace Backprop.Kernels;

/// <summary>
/// One convolution's Winograd-transformed weights (<see cref="ConvolutionWinograd.TransformWeights"/>) kept between
/// forward calls, for inference, where the weights do not change: an evaluation-mode <see cref="Nn.Conv2d"/> owns one.
/// The transform (in double, about 40 instructions per channel pair) cost 4-10x the Winograd products themselves at
/// batch 1 on ResNet-20's layers, which is why <see cref="ConvolutionWinograd.Applies"/> leaves batch 1 to the direct
/// path; with the transform kept, Winograd at batch 1 took 0.4x (32->32 on 16x16) and 0.65x (16->16 on 32x32) the
/// direct path's time.
/// </summary>
/// <remarks>
/// A cached transform is used only while the weights are bit for bit the ones it was made from: every call compares
/// the weights with a copy kept beside it (<see cref="WeightCheck"/>, split over the kernel threads), so no write path
/// (an optimizer, a loaded file, a view, the user's own span) can leave it stale, and no version counter on tensors is
/// needed. Any difference transforms again and runs again. Entries are immutable and swapped whole, so concurrent forwards are safe. The results
/// are those of <see cref="ConvolutionWinograd.Forward"/> on the same weights, bit for bit, for any thread count.
/// </remarks>
internal sealed unsafe class WinogradWeightCache
{
    private const long MaxWeights = 1 << 18;   // floats: the transform is 4x the weights; larger layers are not kept
    // Output tiles (4x4 for 3x3 kernels). Blocks of 5-15 tiles would run 12-row micro-tiles mostly empty (on 8x8 planes, 4
    // tiles in 12 rows, 64->64 took 1.2x the direct time); at most 4 tiles (one image's 8x8 or 7x7 plane) run 4-row kernels
    // on AVX-512: ResNet-20's 64->64 8x8 layer at batch 1 took 13.0 µs against the direct path's 26.2 on one thread.
    private const int MinTiles = 16, FewTiles = 4;

    private Entry? entry;

    /// <summary>Whether the cache may run at all (tests compare it with the uncached paths).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// True where a kept transform runs this forward: Winograd's shapes (<see cref="ConvolutionWinograd.Supports"/>),
    /// channels in whole 16-lane blocks (no padded products), weights of at most 1 MiB, and at least 16 tiles (or, on
    /// AVX-512, at most 4).
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        Enabled && ConvolutionWinograd.Supports(g) && g.InChannels % ConvolutionWinograd.Lanes == 0 && g.OutChannels % ConvolutionWinograd.Lanes == 0
        && g.WeightLength <= MaxWeights && (Tiles(g) >= MinTiles || (Tiles(g) <= FewTiles && SimdWidth.Max >= 512));

    // Output tiles of 4x4 pixels.
    private static long Tiles(in Conv2dGeometry g)
    {
        const int step = ConvolutionWinograd.TileStep;
        return (long)g.Batch * ((g.OutHeight + step - 1) / step) * ((g.OutWidth + step - 1) / step);
    }

    /// <summary>
    /// y = the convolution of x with weight (+ bias, then ReLU with <paramref name="relu"/>) through the kept transform,
    /// made again first when weight differs from the one it was made from. False (nothing written) where
    /// <see cref="Applies"/> is false and <see cref="DirectWeightCache"/> (the shapes the transform does not run that
    /// the direct path runs at batch 1) does not apply either. With a <paramref name="residual"/>, y = ReLU(convolution +
    /// bias + residual), each thread adding its own tiles (<see cref="ConvolutionResidual"/>); <paramref name="relu"/> is then ignored.
    /// With <paramref name="io"/>'s blocked flags, x or y holds 16-channel pixels (<see cref="WinogradIo"/>); then false
    /// (nothing written) wherever <see cref="Applies"/> is false, and no residual with a blocked output. With a
    /// <paramref name="scale"/> (one per output channel: a BatchNorm folded in, <see cref="BatchNormFold"/>), the
    /// convolution is that of the weights <see cref="BatchNormFold.Weights"/> makes of weight and scale: the fold is kept
    /// with the transform, made again when either differs, so the caller passes the layer's own weights and no folded copy.
    /// A small call (batch 1: <see cref="ThreadChoice.MaxOutput"/>) runs on the kernel threads or on the calling thread alone,
    /// as the process's timings choose (<see cref="ThreadChoice"/>); the bits are the same either way.
    /// </summary>
    /// <remarks>
    /// The threads compare the weights with the kept copy after their share of the products, each its own slice of them,
    /// rather than the calling thread all of them first: at batch 1 that compare (the weights and the copy, twice the
    /// weights read) had been a tenth of ResNet-20's calling-thread time with the second core waiting. When a slice differs,
    /// the output is thrown away and made again from a new transform; what a call returns was made from weights equal, bit
    /// for bit, to the ones it was given when they were compared. So that weights changed on every call (an optimizer's
    /// step, a moving average) do not pay for two runs, the calling thread first compares a sample of about 32 of them
    /// (<see cref="WeightCheck.SampleDiffers"/>) and transforms again before any products when one differs.
    /// </remarks>
    // x: (N, C, H, W); weight: (K, C, 3, 3) or (K, C, 5, 5); bias: (K) or empty; y: (N, K, OH, OW) overwritten; residual: y's shape or empty
    public bool TryForward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, bool relu,
        ReadOnlySpan<float> residual = default, WinogradIo io = WinogradIo.Planes, ReadOnlySpan<double> scale = default)
    {
        // A small call (batch 1) that a kept transform or packing runs goes on the kernel threads or the calling thread
        // alone, as measured timings choose (calls that run nothing here are not timed).
        if (g.OutputLength > ThreadChoice.MaxOutput || KernelThreads.Count == 1 || KernelThreads.InWorker || !(Applies(g) || DirectWeightCache.Applies(g)))
            return Forward(g, x, weight, bias, y, relu, residual, io, scale);
        bool serial = ThreadChoice.Shared.Next(out bool timed);
        long start = timed ? Stopwatch.GetTimestamp() : 0;
        bool ran;
        using (KernelThreads.Serially(serial)) ran = Forward(g, x, weight, bias, y, relu, residual, io, scale);
        if (timed && ran) ThreadChoice.Shared.Record(serial, Stopwatch.GetTimestamp() - start);
        return ran;
    }

    private bool Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, bool relu,
        ReadOnlySpan<float> residual, WinogradIo io, ReadOnlySpan<double> scale)
    {
        if (io != WinogradIo.Planes && (!Applies(g) || ((io & WinogradIo.BlockedOutput) != 0 && !residual.IsEmpty))) return false;
        if (!Applies(g)) return direct.TryForward(g, x, weight, bias, y, relu, residual, scale);
        var plan = new WinogradPlan(g);
        Entry? kept = Volatile.Read(ref entry);
        bool made = false;
        if (kept is null || kept.InChannels != g.InChannels || kept.OutChannels != g.OutChannels || !WeightCheck.Same(scale, kept.Scale)
            || WeightCheck.SampleDiffers(weight, kept.Weight))
        {
            kept = Transform(plan, weight, scale);
            Volatile.Write(ref entry, kept);
            made = true;
        }
        if (!Run(plan, kept, !made, x, weight, bias, y, relu, residual, io))
        {
            kept = Transform(plan, weight, scale);
            Volatile.Write(ref entry, kept);
            Run(plan, kept, false, x, weight, bias, y, relu, residual, io);
        }
        return true;
    }

    // The products through kept's transform; with check, each thread also compares its slice of the weights with kept's
    // copy. False when a slice differed (y is then not valid).
    private static bool Run(in WinogradPlan plan, Entry kept, bool check, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> y, bool relu, ReadOnlySpan<float> residual, WinogradIo io)
    {
        float[] biasPadded = ArrayPool<float>.Shared.Rent(plan.Kp);
        try
        {
            fixed (float* px = x, pu = kept.Transformed, pb = biasPadded, py = y, pr = residual, pw = weight)
            {
                new Span<float>(pb, plan.Kp).Clear();
                bias.CopyTo(new Span<float>(pb, plan.Kp));
                nint ix = (nint)px, iu = (nint)pu, ib = (nint)pb, iy = (nint)py, ir = (nint)pr, iw = (nint)pw;
                int width = SimdWidth.Max, blocks = plan.Blocks, length = weight.Length;
                bool adds = !residual.IsEmpty;
                var p = plan;
                fixed (float* pc = kept.Weight)
                {
                    var verify = new WeightCheck((float*)iw, check ? pc : null, length);
                    var pv = &verify;
                    int kBlocks = plan.Kp / ConvolutionWinograd.Lanes;
                    if (blocks == 1 && kBlocks > 1)
                        // One block of tiles (at most 4 on AVX-512, or a single thread): the threads split its output channels.
                        KernelThreads.For(kBlocks, (s, e) =>
                        {
                            ConvolutionWinogradTransforms.Blocks(p, width, 0, 1, (float*)ix, (float*)iu, (float*)ib, (float*)iy, relu && !adds, s, e, io);
                            int c0 = s * ConvolutionWinograd.Lanes, c1 = Math.Min(p.K, e * ConvolutionWinograd.Lanes);
                            if (adds) ConvolutionResidual.Channels((float*)iy, (float*)ir, p.Tiles / p.TilesPerImage, p.K, p.OH * p.OW, c0, c1);
                            pv->Compare((long)s * length / kBlocks, (long)e * length / kBlocks);
                        });
                    else
                        KernelThreads.For(blocks, (s, e) =>
                        {
                            ConvolutionWinogradTransforms.Blocks(p, width, s, e, (float*)ix, (float*)iu, (float*)ib, (float*)iy, relu && !adds, io: io);
                            if (adds) ConvolutionResidual.Tiles(p, (float*)iy, (float*)ir, s * p.BlockTiles, Math.Min(p.Tiles, e * p.BlockTiles));
                            pv->Compare((long)s * length / blocks, (long)e * length / blocks);
                        });
                    return !verify.Differs;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(biasPadded);
        }
    }

    /// <summary>Lets the kept transform (and direct packing) go; the next <see cref="TryForward"/> that applies makes it again.</summary>
    public void Clear()
    {
        Volatile.Write(ref entry, null);
        direct.Clear();
    }

    /// <summary>Whether a transform is kept (tests).</summary>
    internal bool Holds => Volatile.Read(ref entry) is not null;

    /// <summary>Whether a direct packing is kept (tests).</summary>
    internal bool HoldsDirect => direct.Holds;

    // The batch-1 direct path's kept packing, for the shapes this cache leaves to it.
    private readonly DirectWeightCache direct = new();

    // The copy is taken first and transformed, so a write to the live weights during this call cannot leave an entry
    // whose transform is of other weights than the copy it is compared with.
    private static Entry Transform(in WinogradPlan plan, ReadOnlySpan<float> weight, ReadOnlySpan<double> scale)
    {
        float[] copy = weight.ToArray();
        var transformed = new float[plan.Positions * plan.Cp * plan.Kp + ConvolutionWinograd.Lanes];
        float[] source = copy;
        if (!scale.IsEmpty)
        {
            source = new float[copy.Length];
            BatchNormFold.Weights(copy, scale, source);
        }
        fixed (float* pw = source, pu = transformed) ConvolutionWinograd.TransformWeights(plan, pw, false, pu);
        return new Entry(plan.C, plan.K, copy, scale.ToArray(), transformed);
    }

    // weight: the (K, C, r, r) weights the transform was made from, before any fold; scale: the folded BatchNorm's
    // per-channel scale (empty: none); transformed: U of the folded weights, (positions, K/16, C, 16)
    private sealed record Entry(int InChannels, int OutChannels, float[] Weight, double[] Scale, float[] Transformed);
}
