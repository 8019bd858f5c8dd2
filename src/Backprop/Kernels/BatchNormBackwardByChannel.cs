using System.Runtime.CompilerServices;
using System.Buffers;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

public static unsafe partial class BatchNorm
{
    /// <summary>
    /// Training backward as one kernel: BackwardSums (or <see cref="BackwardSumsRelu"/> with
    /// <paramref name="relu"/>) then <see cref="BackwardInput"/>, with their bits. Where a channel's data fits in cache,
    /// each thread takes a run of channels and, group by group, forms the sums and then dx while x and dy are still in
    /// cache, so they are read from memory once instead of twice; otherwise the two kernels run one after another.
    /// </summary>
    // x, dy, dx: (N, C, inner); mean, invStd: (C); sumDy, sumDyXhat: (C) overwritten; weight, bias: (C) or empty
    public static void TrainingBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<double> sumDy, Span<double> sumDyXhat, Span<float> dx, bool relu = false)
    {
        CheckBackward(x.Length, dy.Length, n, c, inner, mean.Length, invStd.Length, sumDy.Length, sumDyXhat.Length, weight.Length, bias.Length, dx.Length);
        if (!ChannelSchedule(n, c, inner, 3, out int group))
        {
            if (relu) BackwardSumsRelu(x, dy, n, c, inner, mean, invStd, weight, bias, sumDy, sumDyXhat);
            else BackwardSums(x, dy, n, c, inner, mean, invStd, sumDy, sumDyXhat);
            BackwardInput(x, dy, n, c, inner, mean, invStd, weight, sumDy, sumDyXhat, true, dx, relu, bias);
            return;
        }
        fixed (float* px = x, pg = dy, pd = dx)
            ByChannel(px, pg, null, pd, null, n, c, inner, group, mean, invStd, weight, bias, sumDy, sumDyXhat, relu);
    }

    /// <summary>
    /// The backward of <see cref="NormalizeAddRelu"/> in training: masked = dy where y &gt; 0
    /// (<see cref="Activations.ReluBackward"/>, the residual's gradient), then <see cref="TrainingBackward"/> on masked,
    /// with the bits of those kernels run one after another. The channel schedule reads y, dy and x from memory once.
    /// </summary>
    // x, y, dy, masked, dx: (N, C, inner), y the forward's output; the rest as in TrainingBackward
    public static void TrainingBackwardAddRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight,
        Span<double> sumDy, Span<double> sumDyXhat, Span<float> masked, Span<float> dx)
    {
        CheckBackward(x.Length, dy.Length, n, c, inner, mean.Length, invStd.Length, sumDy.Length, sumDyXhat.Length, weight.Length, 0, dx.Length);
        if (y.Length != x.Length || masked.Length != x.Length)
            throw new ArgumentException($"BatchNorm.TrainingBackwardAddRelu: y of {y.Length} or masked of {masked.Length} elements does not match x of {x.Length}.");
        // Groups sized for three arrays although the kernel touches five (pass 1 reads x, y, dy and writes masked; pass 2
        // reads x and masked and writes dx): pass 2's reverse walk finds the latest planes in cache anyway, and groups sized
        // for five measured 1.01-1.02x slower at (128, 32, 16, 16) and (128, 64, 8, 8), the plane schedule that five force
        // at (128, 16, 32, 32) 1.10x (CPU time, one thread).
        if (!ChannelSchedule(n, c, inner, 3, out int group))
        {
            MaskByOutput(y, dy, masked);
            TrainingBackward(x, masked, n, c, inner, mean, invStd, weight, default, sumDy, sumDyXhat, dx);
            return;
        }
        fixed (float* px = x, pg = dy, pd = dx, py = y, pm = masked)
            ByChannel(px, pg, py, pd, pm, n, c, inner, group, mean, invStd, weight, default, sumDy, sumDyXhat, relu: false);
    }

    /// <summary>masked = dy where y &gt; 0: <see cref="Activations.ReluBackward"/>, which splits long buffers over <see cref="KernelThreads"/>.</summary>
    // y, dy, masked: (length)
    public static void MaskByOutput(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> masked)
    {
        if (dy.Length != y.Length || masked.Length != y.Length)
            throw new ArgumentException($"BatchNorm.MaskByOutput: dy of {dy.Length} or masked of {masked.Length} elements does not match y of {y.Length}.");
        Activations.ReluBackward(y, dy, masked);   // elementwise, split over the kernel threads when long
    }

    // The channel schedule of both backward kernels. With y (AddRelu), the gradient is dy masked where y > 0: pass 1 masks
    // each plane into `masked` (the residual's gradient) in the same loop that sums it; pass 2 reads it back for dx. With
    // relu on planes of 256 values or more, pass 1 stores dy masked by the recomputed forward output into dx, and pass 2
    // turns it into dx in place: the mask is computed once, and pass 2 reads two arrays instead of three.
    private static void ByChannel(float* xp, float* gp, float* yp, float* dp, float* mp, int n, int c, int inner, int group,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<double> sumDy, Span<double> sumDyXhat, bool relu)
    {
        // Short planes (8x8: 1.35x slower, CPU time, one thread) keep recomputing the mask in pass 2; 16x16 and up gain (32x32: 0.7x).
        bool maskIntoDx = relu && inner >= 256;
        // Pass 1 asks for the next image's x and dy planes while it sums the current ones, as the forward's statistics do
        // (CachePrefetch): planes of 4 KB and up, where each plane is its own run at a stride of C planes. Not with y
        // (AddRelu), whose third array measured slower with it; short planes, a group's contiguous run within an image, stream anyway.
        bool prefetchReads = yp is null && inner >= 1024;
        // Pass 1's horizontal sums eight planes at a time (AVX-512): CPU time, one thread, (128, 64, 8, 8) bwd 0.90-0.93x,
        // (128, 32, 16, 16) bnrelu 0.83x, bn 1.00x; not the add-relu's masked sums at 16x16 and up (1.07x slower).
        bool eight = BatchNormShortMoments.AppliesToSums(inner) && (yp is null || inner < 256);
        double[] partA = ArrayPool<double>.Shared.Rent(n * c), partB = ArrayPool<double>.Shared.Rent(n * c);
        // Rented, as the forward's buffers (TrainingForward): no garbage per step.
        double[] m = RentCopy(mean), s = RentCopy(invStd), sa = ArrayPool<double>.Shared.Rent(c), sb = ArrayPool<double>.Shared.Rent(c);
        float[] wRented = RentCopy(weight), bRented = RentCopy(bias);
        int wLength = weight.Length, bLength = bias.Length;
        try
        {
            ForChannelGroups(c, group, (c0, c1) =>
            {
                ReadOnlySpan<float> w = wRented.AsSpan(0, wLength), b = bRented.AsSpan(0, bLength);
                var forward = ArrayPool<NormalizeOp>.Shared.Rent(c1 - c0);
                for (int ch = c0; ch < c1; ch++) forward[ch - c0] = NormalizeOpFor(ch, m, s, w, b, relu);
                long groupLength = (long)(c1 - c0) * inner;
                Vector512<double>* va = stackalloc Vector512<double>[8], vb = stackalloc Vector512<double>[8];
                for (int img = 0; img < n; img++)
                {
                    if (prefetchReads && img + 1 < n)
                    {
                        CachePrefetch.Run(xp + ((long)(img + 1) * c + c0) * inner, groupLength);
                        CachePrefetch.Run(gp + ((long)(img + 1) * c + c0) * inner, groupLength);
                    }
                    if (eight)
                    {
                        // The same sums, eight planes' horizontal sums at a time (BatchNormShortMoments).
                        for (int e0 = c0; e0 < c1; e0 += 8)
                        {
                            int count = Math.Min(8, c1 - e0);
                            for (int j = 0; j < count; j++)
                            {
                                int ch = e0 + j;
                                long o = ((long)img * c + ch) * inner;
                                var (hi, lo) = Split(m[ch]);
                                if (maskIntoDx) BatchNormShortMoments.Widened(new GradientMoments(hi, lo), xp + o, new ReluMaskingGradient(forward[ch - c0], xp + o, gp + o, dp + o), inner, out va[j], out vb[j]);
                                else if (relu) BatchNormShortMoments.Widened(new ReluMaskedGradientMoments(forward[ch - c0]), xp + o, new LoadedGradient(gp + o), inner, out va[j], out vb[j]);
                                else if (yp is null) BatchNormShortMoments.Widened(new GradientMoments(hi, lo), xp + o, new LoadedGradient(gp + o), inner, out va[j], out vb[j]);
                                else BatchNormShortMoments.Widened(new GradientMoments(hi, lo), xp + o, new MaskingGradient(yp + o, gp + o, mp + o), inner, out va[j], out vb[j]);
                            }
                            BatchNormShortMoments.Flush(va, count, partA, img * c + e0);
                            BatchNormShortMoments.Flush(vb, count, partB, img * c + e0);
                        }
                        continue;
                    }
                    for (int ch = c0; ch < c1; ch++)
                    {
                        int p = img * c + ch;
                        long o = (long)p * inner;
                        var (hi, lo) = Split(m[ch]);
                        if (maskIntoDx) BatchNormSums.ReluMaskedSums(forward[ch - c0], hi, lo, xp + o, gp + o, dp + o, inner, out partA[p], out partB[p]);
                        else if (relu) BatchNormSums.Sums(new ReluMaskedGradientMoments(forward[ch - c0]), xp + o, gp + o, inner, out partA[p], out partB[p]);
                        else if (yp is null) BatchNormSums.Sums(new GradientMoments(hi, lo), xp + o, gp + o, inner, out partA[p], out partB[p]);
                        else BatchNormSums.MaskedSums(new GradientMoments(hi, lo), xp + o, yp + o, gp + o, mp + o, inner, out partA[p], out partB[p]);
                    }
                }
                SumOverImages(partA, n, c, c0, c1, sa);
                SumOverImages(partB, n, c, c0, c1, sb);
                var ops = ArrayPool<BackwardOp>.Shared.Rent(c1 - c0);
                for (int ch = c0; ch < c1; ch++)
                {
                    sb[ch] *= s[ch];
                    ops[ch - c0] = BackwardOpFor(ch, (double)n * inner, m, s, w, sa, sb, true, maskIntoDx ? NormalizeOpFor(ch, m, s, w, b, relu: false) : forward[ch - c0]);
                }
                // Pass 2 walks the images in the reverse of pass 1's order: the last images pass 1 touched are the ones
                // still in cache, and a forward walk would evict each plane just before it is needed when the group's
                // arrays (up to five with AddRelu) exceed the cache. Within an image the group's planes are one ascending
                // run of memory, kept ascending for the prefetchers. dx is elementwise, so the order changes no bits.
                float* g = maskIntoDx ? dp : yp is null ? gp : mp;   // the gradient pass 2 reads, at x's offsets
                if (BatchNormShortPlanes.RunsApart(inner))
                    MapPlanesApart(ops, c0, c1, n, c, inner, xp, g, dp);
                else
                    for (int img = n - 1; img >= 0; img--)
                        for (int ch = c0; ch < c1; ch++)
                        {
                            long o = ((long)img * c + ch) * inner;
                            BatchNormShortPlanes.Map(ops[ch - c0], xp + o, g + o, dp + o, inner);
                        }
                ArrayPool<NormalizeOp>.Shared.Return(forward);
                ArrayPool<BackwardOp>.Shared.Return(ops);
            });
            sa.AsSpan(0, c).CopyTo(sumDy);
            sb.AsSpan(0, c).CopyTo(sumDyXhat);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partA);
            ArrayPool<double>.Shared.Return(partB);
            ArrayPool<double>.Shared.Return(m);
            ArrayPool<double>.Shared.Return(s);
            ArrayPool<double>.Shared.Return(sa);
            ArrayPool<double>.Shared.Return(sb);
            ArrayPool<float>.Shared.Return(wRented);
            ArrayPool<float>.Shared.Return(bRented);
        }
    }

    // Pass 2 as above (images in reverse, channels ascending), each plane through BatchNormShortPlanes.MapLong; g: the
    // gradient pass 2 reads (dy, the masked dy, or dx itself), at the same offsets as x.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MapPlanesApart(BackwardOp[] ops, int c0, int c1, int n, int c, int inner, float* xp, float* g, float* dp)
    {
        for (int img = n - 1; img >= 0; img--)
            for (int ch = c0; ch < c1; ch++)
            {
                long o = ((long)img * c + ch) * inner;
                BatchNormShortPlanes.MapLong(ops[ch - c0], xp + o, g + o, dp + o, inner);
            }
    }

    private static void CheckBackward(int length, int dyLength, int n, int c, int inner, int meanLength, int invStdLength,
        int sumDyLength, int sumDyXhatLength, int weightLength, int biasLength, int dxLength)
    {
        Check(length, n, c, inner, meanLength, invStdLength, "TrainingBackward");
        CheckAffine(c, weightLength, biasLength, dxLength, length, "TrainingBackward");
        if (dyLength != length || sumDyLength != c || sumDyXhatLength != c)
            throw new ArgumentException($"BatchNorm.TrainingBackward: dy of {dyLength} or sums of {sumDyLength}, {sumDyXhatLength} do not match x of (N, C, inner) = ({n}, {c}, {inner}).");
    }
}
