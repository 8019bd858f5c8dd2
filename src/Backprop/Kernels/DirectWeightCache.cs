namespace Backprop.Kernels;

/// <summary>
/// One convolution's weights packed for <see cref="ConvolutionDirect"/> (and its depth offsets table) kept between
/// batch-1 forward calls, for inference: an evaluation-mode <see cref="Nn.Conv2d"/> owns one (through its
/// <see cref="WinogradWeightCache"/>, which hands over the shapes the Winograd transform does not run). Packing 64x64x3x3
/// weights every call, and reading them all on both cores, cost more than ResNet-20's batch-1 layers gained from a
/// second thread; kept, and split by output channels (<see cref="ConvolutionDirect.SplitsRows"/>), each core's half of
/// the weights stays in its own L2.
/// </summary>
/// <remarks>
/// As <see cref="WinogradWeightCache"/>: used only while the weights are bit for bit the ones it was packed from (every
/// call's threads compare them with a kept copy, each the weights of its own output channels, and a call that finds them
/// changed packs again and runs again), for the same geometry and vector width; entries are immutable and swapped whole.
/// It runs exactly where <see cref="Convolution.Forward"/> would run <see cref="ConvolutionDirect.Forward"/>, with the
/// same packing and tables, so its results are that path's, bit for bit, for any thread count.
/// </remarks>
internal sealed unsafe class DirectWeightCache
{
    private Entry? entry;

    /// <summary>Whether the cache may run at all (tests compare it with the uncached path).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>Batch 1 where <see cref="Convolution.Forward"/> picks <see cref="ConvolutionDirect.Forward"/>.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        Enabled && g.Batch == 1 && Convolution.ImplicitGemmEnabled && g.Groups == 1 && !Convolution.IsPointwise(g)
        && !ConvolutionWinograd.Applies(g) && !ConvolutionFusedWinograd44.Applies(g) && !ConvolutionFusedWinograd.Applies(g)
        && !(ConvolutionWinograd.Enabled && ConvolutionBatchLaneForward.Applies(g)) && ConvolutionDirect.Applies(g);

    /// <summary>
    /// y = the convolution of x with weight (+ bias, then ReLU with <paramref name="relu"/>) through the kept packing, made
    /// again first when weight (or the geometry) differs. False (nothing written) where <see cref="Applies"/> is false.
    /// With a <paramref name="residual"/>, y = ReLU(convolution + bias + residual) (<see cref="ConvolutionResidual"/>);
    /// <paramref name="relu"/> is then ignored. With a <paramref name="scale"/>, the weights are those
    /// <see cref="BatchNormFold.Weights"/> makes of weight and scale (as in <see cref="WinogradWeightCache.TryForward"/>).
    /// </summary>
    // x: (1, C, H, W); weight: (K, C, KH, KW); bias: (K) or empty; y: (1, K, OH, OW) overwritten; residual: y's shape or empty;
    // scale: (K) or empty
    public bool TryForward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, bool relu,
        ReadOnlySpan<float> residual = default, ReadOnlySpan<double> scale = default)
    {
        if (!Applies(g)) return false;
        int width = SimdWidth.Max;
        Entry? kept = Volatile.Read(ref entry);
        bool made = false;
        if (kept is null || kept.Geometry != g || kept.Width != width || !WeightCheck.Same(scale, kept.Scale)
            || WeightCheck.SampleDiffers(weight, kept.Weight))
        {
            kept = Pack(g, width, weight, scale);
            Volatile.Write(ref entry, kept);
            made = true;
        }
        if (!Run(g, kept, !made, x, weight, bias, y, relu, residual))
        {
            kept = Pack(g, width, weight, scale);
            Volatile.Write(ref entry, kept);
            Run(g, kept, false, x, weight, bias, y, relu, residual);
        }
        return true;
    }

    // The convolution through kept's packing; with check, each thread also compares the weights of its output channels
    // with kept's copy (WinogradWeightCache.TryForward says why there). False when they differed (y is then not valid).
    private static bool Run(in Conv2dGeometry g, Entry kept, bool check, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> y, bool relu, ReadOnlySpan<float> residual)
    {
        fixed (float* px = x, pw = weight, pb = bias, py = y, pk = kept.Packed, pr = residual, pc = kept.Weight)
        fixed (int* po = kept.Offsets)
        {
            var verify = new WeightCheck(pw, check ? pc : null, weight.Length);
            ConvolutionDirect.ForwardKept(g, px, null, bias.Length != 0 ? pb : null, py, relu, ConvolutionImplicitGemm.Align64(pk), po,
                residual.IsEmpty ? null : pr, &verify);
            return !verify.Differs;
        }
    }

    /// <summary>Lets the kept packing go.</summary>
    public void Clear() => Volatile.Write(ref entry, null);

    /// <summary>Whether a packing is kept (tests).</summary>
    internal bool Holds => Volatile.Read(ref entry) is not null;

    // The copy is taken first and packed, so a write to the live weights during this call cannot leave an entry whose
    // packing is of other weights than the copy it is compared with. Pinned: the packing starts at a 64-byte boundary
    // found once, which must not move.
    private static Entry Pack(in Conv2dGeometry g, int width, ReadOnlySpan<float> weight, ReadOnlySpan<double> scale)
    {
        float[] copy = weight.ToArray(), source = copy;
        if (!scale.IsEmpty)
        {
            source = new float[copy.Length];
            BatchNormFold.Weights(copy, scale, source);
        }
        float[] packed = GC.AllocateUninitializedArray<float>(ConvolutionDirect.PackedLength(g, width), pinned: true);
        int[] offsets = GC.AllocateUninitializedArray<int>(3 * g.InChannels * g.KernelHeight * g.KernelWidth, pinned: true);
        fixed (float* pw = source, pk = packed)
        fixed (int* po = offsets)
        {
            ConvolutionDirect.PackWeights(g, width, pw, ConvolutionImplicitGemm.Align64(pk));
            ConvolutionDirect.MakeOffsets(g, width, po);
        }
        return new Entry(g, width, copy, scale.ToArray(), packed, offsets);
    }

    // Weight: the weights packed, before any fold; Scale: the folded BatchNorm's scale (empty: none)
    private sealed record Entry(Conv2dGeometry Geometry, int Width, float[] Weight, double[] Scale, float[] Packed, int[] Offsets);
}
