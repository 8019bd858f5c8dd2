using System.Buffers;

namespace Backprop.Kernels;

public static unsafe partial class BatchNorm
{
    /// <summary>
    /// Bytes of a channel group's arrays that the channel schedule keeps in cache between its two passes: a little
    /// under a 2 MiB L2 per core. Channels whose data is larger run the plane schedule (two passes over the tensor).
    /// Settable so tests can force either schedule and groups of any size; the bits do not depend on it.
    /// </summary>
    internal static long CacheBudgetBytes { get; set; } = 1536 * 1024;

    /// <summary>
    /// Training forward as one kernel: the batch statistics (<see cref="Statistics"/>), invStd (<see cref="InverseStd"/>)
    /// and y (<see cref="Normalize"/>), with those kernels' bits. Where a channel's data fits in cache, each thread takes a
    /// run of channels and, group by group, computes the statistics and then normalizes while x is still in cache, so x
    /// is read from memory once instead of twice; otherwise the three kernels run one after another.
    /// </summary>
    // x, y: (N, C, inner); mean, variance, invStd: (C) overwritten; weight, bias: (C) or empty
    public static void TrainingForward(ReadOnlySpan<float> x, int n, int c, int inner, float eps, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, Span<double> mean, Span<double> variance, Span<double> invStd, Span<float> y, bool relu = false)
        => TrainingForward(x, default, n, c, inner, eps, weight, bias, mean, variance, invStd, y, relu, addRelu: false);

    /// <summary>
    /// <see cref="TrainingForward(ReadOnlySpan{float}, int, int, int, float, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{double}, Span{double}, Span{double}, Span{float}, bool)"/>
    /// with <see cref="NormalizeAddRelu"/>'s output: y = max(normalized + residual, 0).
    /// </summary>
    public static void TrainingForwardAddRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, int n, int c, int inner, float eps,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<double> mean, Span<double> variance, Span<double> invStd, Span<float> y)
    {
        if (residual.Length != x.Length)
            throw new ArgumentException($"BatchNorm.TrainingForwardAddRelu: residual of {residual.Length} elements does not match x of {x.Length}.");
        TrainingForward(x, residual, n, c, inner, eps, weight, bias, mean, variance, invStd, y, relu: false, addRelu: true);
    }

    private static void TrainingForward(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, int n, int c, int inner, float eps,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<double> mean, Span<double> variance, Span<double> invStd, Span<float> y,
        bool relu, bool addRelu)
    {
        Check(x.Length, n, c, inner, mean.Length, variance.Length, "TrainingForward");
        CheckAffine(c, weight.Length, bias.Length, y.Length, x.Length, "TrainingForward");
        if (invStd.Length != c) throw new ArgumentException($"BatchNorm.TrainingForward: invStd of {invStd.Length} does not match {c} channels.");
        if (!ChannelSchedule(n, c, inner, addRelu ? 3 : 2, out int group))
        {
            Statistics(x, n, c, inner, mean, variance);
            InverseStd(variance, eps, invStd);
            if (addRelu) NormalizeAddRelu(x, residual, n, c, inner, mean, invStd, weight, bias, y);
            else Normalize(x, n, c, inner, mean, invStd, weight, bias, y, relu);
            return;
        }
        // Every buffer rented: a training step runs this for each BatchNorm, and its garbage was most of a step's.
        double[] planeMean = ArrayPool<double>.Shared.Rent(n * c), planeM2 = ArrayPool<double>.Shared.Rent(n * c);
        double[] m = ArrayPool<double>.Shared.Rent(c), v = ArrayPool<double>.Shared.Rent(c), s = ArrayPool<double>.Shared.Rent(c);
        float[] w = RentCopy(weight), b = RentCopy(bias);
        int wLength = weight.Length, bLength = bias.Length;
        try
        {
            fixed (float* px = x, pr = residual, py = y)
            {
                float* xp = px, rp = pr, yp = py;
                bool prefetchY = !addRelu && inner >= 1024;
                ForChannelGroups(c, group, (c0, c1) =>
                {
                    for (int img = 0; img < n; img++)
                    {
                        if (img + 1 < n) CachePrefetch.Run(xp + ((long)(img + 1) * c + c0) * inner, (long)(c1 - c0) * inner);
                        PlaneRunMoments(xp, inner, img * c + c0, img * c + c1, planeMean, planeM2);
                    }
                    // Statistics' merge in image order (the spread into v), then InverseStd and NormalizeOps: the same expressions.
                    MergeImages(n, c, c0, c1, inner, planeMean, planeM2, m, v);
                    var ops = ArrayPool<NormalizeOp>.Shared.Rent(c1 - c0);
                    for (int ch = c0; ch < c1; ch++)
                    {
                        v[ch] = v[ch] / ((long)n * inner);
                        s[ch] = 1.0 / Math.Sqrt(v[ch] + eps);
                        ops[ch - c0] = NormalizeOpFor(ch, m, s, w.AsSpan(0, wLength), b.AsSpan(0, bLength), relu);
                    }
                    // Images in the reverse of the statistics' order, as the backward's pass 2: the planes read last are
                    // the ones still in cache. y is elementwise, so the order changes no bits.
                    for (int img = n - 1; img >= 0; img--)
                    {
                        // y's next planes are new lines: asked for now, their stores do not wait on memory (each plane
                        // starts a new run at a stride of C planes, where the hardware prefetcher starts over). Planes of
                        // 4 KB and up: (128, 16, 32, 32) forward 0.73-0.86x (CPU time, one thread); 16x16 and 8x8 planes,
                        // a group's contiguous run within an image, measured no change, and the add-relu forward, which
                        // also streams the residual, 1.09-1.10x slower with it.
                        if (prefetchY && img > 0) CachePrefetch.Run(yp + ((long)(img - 1) * c + c0) * inner, (long)(c1 - c0) * inner);
                        for (int ch = c0; ch < c1; ch++)
                        {
                            long o = ((long)img * c + ch) * inner;
                            if (addRelu) BatchNormShortPlanes.Map(new AddReluOp(ops[ch - c0]), xp + o, rp + o, yp + o, inner);
                            else BatchNormShortPlanes.Map(ops[ch - c0], xp + o, null, yp + o, inner);
                        }
                    }
                    ArrayPool<NormalizeOp>.Shared.Return(ops);
                });
            }
            m.AsSpan(0, c).CopyTo(mean);
            v.AsSpan(0, c).CopyTo(variance);
            s.AsSpan(0, c).CopyTo(invStd);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(planeMean);
            ArrayPool<double>.Shared.Return(planeM2);
            ArrayPool<double>.Shared.Return(m);
            ArrayPool<double>.Shared.Return(v);
            ArrayPool<double>.Shared.Return(s);
            ArrayPool<float>.Shared.Return(w);
            ArrayPool<float>.Shared.Return(b);
        }
    }

    // A rented copy of values (the first values.Length elements; the array may be longer).
    private static T[] RentCopy<T>(ReadOnlySpan<T> values)
    {
        var copy = ArrayPool<T>.Shared.Rent(values.Length);
        values.CopyTo(copy);
        return copy;
    }

    // Whether the channel schedule pays here, and how many channels a group holds (arrays: the tensors its passes touch).
    // Each thread gets a run of whole channels, so few channels over many threads would leave threads idle.
    internal static bool ChannelSchedule(int n, int c, int inner, int arrays, out int group)
    {
        long perChannel = (long)n * inner * sizeof(float) * arrays;
        int threads = KernelThreads.Count;
        group = (int)Math.Clamp(CacheBudgetBytes / Math.Max(perChannel, 1), 1, Math.Max(c, 1));
        return perChannel <= CacheBudgetBytes && n * inner > 0 && (c % threads == 0 || c >= 4 * threads);
    }

    // body(c0, c1) for groups of at most `group` channels, each thread over its own contiguous run of channels.
    private static void ForChannelGroups(int c, int group, Action<int, int> body) =>
        KernelThreads.For(c, (start, end) =>
        {
            for (int c0 = start; c0 < end; c0 += group) body(c0, Math.Min(end, c0 + group));
        });
}
