using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Batch normalization over x: (N, C, inner) per channel c, with count = N·inner values per channel:
/// mean[c] = Σ x / count, variance[c] = Σ (x − mean)² / count (biased), invStd = 1/√(variance + eps),
/// y = (x − mean)·invStd·weight + bias; backward sumDy = Σ dy, sumDyXhat = Σ dy·(x − mean)·invStd and
/// dx = weight·invStd/count·(count·dy − sumDy − xhat·sumDyXhat) in training, weight·invStd·dy in evaluation.
/// <see cref="BatchNormReference"/> is the definition. Here the work is split over
/// <see cref="KernelThreads"/> by (image, channel) plane; each plane's sums are float SIMD blocks widened into
/// double, and the planes of a channel are combined in image order, so the bits depend neither on scheduling nor
/// on the thread count. The mean is removed as two floats (hi + lo), so a large mean costs no accuracy.
/// Empty weight means ones, empty bias zeros. With <c>relu</c>, y = max(y, 0) in the same pass, and backward
/// masks dy where that y was not positive, recomputing y from x with the forward's own float operations (the
/// same bits), so the fused op needs neither y nor a masked copy of dy.
/// </summary>
public static unsafe partial class BatchNorm
{
    /// <summary>
    /// Batch mean and biased variance per channel. Each chunk of a plane is read twice while it is in cache (its sum,
    /// then moments about its own mean), and chunks, then planes in image order, are merged with Chan's pairwise
    /// formula in double: x is read from memory once, and no sum of squares about zero can cancel.
    /// </summary>
    // x: (N, C, inner); mean, variance: (C) overwritten
    public static void Statistics(ReadOnlySpan<float> x, int n, int c, int inner, Span<double> mean, Span<double> variance)
    {
        Check(x.Length, n, c, inner, mean.Length, variance.Length, "Statistics");
        long count = (long)n * inner;
        if (count == 0) throw new ArgumentException($"BatchNorm.Statistics: no values per channel in x of (N, C, inner) = ({n}, {c}, {inner}).");
        // Rented, not allocated: a training step runs this for every BatchNorm, and fresh arrays of N·C doubles
        // each time were most of the step's garbage (the process's memory grew until a collection came).
        double[] planeMean = ArrayPool<double>.Shared.Rent(n * c), planeM2 = ArrayPool<double>.Shared.Rent(n * c);
        double[] m = ArrayPool<double>.Shared.Rent(c), m2 = ArrayPool<double>.Shared.Rent(c);
        try
        {
            fixed (float* px = x)
            {
                float* xp = px;
                KernelThreads.For(n * c, (start, end) => PlaneRunMoments(xp, inner, start, end, planeMean, planeM2));
            }
            MergeImages(n, c, 0, c, inner, planeMean, planeM2, m, m2);
            for (int ch = 0; ch < c; ch++)
            {
                mean[ch] = m[ch];
                variance[ch] = m2[ch] / count;
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(planeMean);
            ArrayPool<double>.Shared.Return(planeM2);
            ArrayPool<double>.Shared.Return(m);
            ArrayPool<double>.Shared.Return(m2);
        }
    }

    // Planes [first, last) of x: (planes, inner) into planeMean and planeM2, each plane's PlaneMoments.
    private static void PlaneRunMoments(float* x, int inner, int first, int last, double[] planeMean, double[] planeM2)
    {
        if (!BatchNormShortPlanes.Applies(inner))
        {
            for (int p = first; p < last; p++) PlaneMoments(x + (long)p * inner, inner, out planeMean[p], out planeM2[p]);
            return;
        }
        if (BatchNormShortMoments.Enabled)
        {
            BatchNormShortMoments.PlaneRun(x, inner, first, last, planeMean, planeM2);
            return;
        }
        // PlaneMoments' one chunk, inlined (the same expressions), in two stages over a few planes at a time: each
        // stage's planes are independent, so their chains of dependent steps overlap.
        const int Batch = 16;
        float* his = stackalloc float[Batch], los = stackalloc float[Batch];
        for (int p0 = first; p0 < last; p0 += Batch)
        {
            int count = Math.Min(Batch, last - p0);
            for (int j = 0; j < count; j++) (his[j], los[j]) = Split(BatchNormShortPlanes.Sum(x + (long)(p0 + j) * inner, inner) / inner);
            for (int j = 0; j < count; j++)
            {
                float* xp = x + (long)(p0 + j) * inner;
                float hi = his[j], lo = los[j];
                BatchNormShortPlanes.Sums(new ShiftedMoments(hi, lo), xp, xp, inner, out double s1, out double s2);
                double mean = 0, m2 = 0;
                Merge(ref mean, ref m2, 0, (double)hi + lo + s1 / inner, Math.Max(0, s2 - s1 * s1 / inner), inner);
                planeMean[p0 + j] = mean;
                planeM2[p0 + j] = m2;
            }
        }
    }

    // Channels [c0, c1) of mean and m2 (zeroed here) from the plane moments, merged in image order. Images outer,
    // channels inner: each channel's merges are a chain of dependent divisions, and the chains of a run of channels overlap.
    private static void MergeImages(int n, int c, int c0, int c1, int inner, double[] planeMean, double[] planeM2, double[] mean, double[] m2)
    {
        Array.Clear(mean, c0, c1 - c0);
        Array.Clear(m2, c0, c1 - c0);
        if (inner == 0) return;
        for (int img = 0; img < n; img++)
        {
            int ch = c0;
            if (BatchNormShortMoments.Enabled && SimdWidth.Allows256(SimdWidth.Max))
            {
                // Merge's operations on four channels at once (IEEE double operations, so the same bits).
                long na = (long)img * inner, total = na + inner;
                var nb = Vector256.Create((double)inner);
                var t = Vector256.Create((double)total);
                var w = Vector256.Create((double)na * inner / total);
                fixed (double* pm = mean, pv = m2, qm = planeMean, qv = planeM2)
                    for (; ch + 4 <= c1; ch += 4)
                    {
                        var ma = Vector256.Load(pm + ch);
                        var delta = Vector256.Load(qm + img * c + ch) - ma;
                        (ma + delta * nb / t).Store(pm + ch);
                        (Vector256.Load(pv + ch) + (Vector256.Load(qv + img * c + ch) + delta * delta * w)).Store(pv + ch);
                    }
            }
            for (; ch < c1; ch++)
                Merge(ref mean[ch], ref m2[ch], (long)img * inner, planeMean[img * c + ch], planeM2[img * c + ch], inner);
        }
    }

    // x: (length); mean and m2 = Σ (x − mean)² of the run
    private static void PlaneMoments(float* x, int length, out double mean, out double m2)
    {
        const int Chunk = 4096;   // 16 KB: still in L1 for the second read
        mean = 0;
        m2 = 0;
        for (int s = 0; s < length; s += Chunk)
        {
            int k = Math.Min(Chunk, length - s);
            var (hi, lo) = Split(BatchNormSums.Sum(x + s, k) / k);
            BatchNormSums.Sums(new ShiftedMoments(hi, lo), x + s, x + s, k, out double s1, out double s2);
            // Moments about m = hi + lo: Σ(x − m) corrects m, Σ(x − m)² − (Σ(x − m))²/k is the spread about the corrected mean.
            Merge(ref mean, ref m2, s, (double)hi + lo + s1 / k, Math.Max(0, s2 - s1 * s1 / k), k);
        }
    }

    // Chan et al.: merges a group of nb values (mean mb, spread m2b) into one of na values (mean ma, spread m2a).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Merge(ref double ma, ref double m2a, long na, double mb, double m2b, long nb)
    {
        if (nb == 0) return;
        long total = na + nb;
        double delta = mb - ma;
        ma += delta * nb / total;
        m2a += m2b + delta * delta * ((double)na * nb / total);
    }

    /// <summary>
    /// PyTorch's running-statistics update: runningMean = (1 − momentum)·runningMean + momentum·mean and
    /// runningVar = (1 − momentum)·runningVar + momentum·variance·count/(count − 1) (the unbiased variance).
    /// </summary>
    // mean, variance, runningMean, runningVar: (C)
    public static void UpdateRunning(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, long count, float momentum,
        Span<float> runningMean, Span<float> runningVar)
    {
        if (count < 2) throw new ArgumentException($"BatchNorm.UpdateRunning: the unbiased variance needs at least 2 values per channel, got {count}.");
        for (int ch = 0; ch < mean.Length; ch++)
        {
            runningMean[ch] = (float)((1 - momentum) * runningMean[ch] + momentum * mean[ch]);
            runningVar[ch] = (float)((1 - momentum) * runningVar[ch] + momentum * (variance[ch] * count / (count - 1)));
        }
    }

    /// <summary>invStd[c] = 1/√(variance[c] + eps), in double.</summary>
    // variance, invStd: (C)
    public static void InverseStd(ReadOnlySpan<double> variance, float eps, Span<double> invStd)
    {
        for (int ch = 0; ch < variance.Length; ch++) invStd[ch] = 1.0 / Math.Sqrt(variance[ch] + eps);
    }

    /// <summary>y = ((x − hi) − lo)·scale + bias with mean = hi + lo and scale = invStd·weight (float, no fused multiply-add).</summary>
    // x, y: (N, C, inner); mean, invStd: (C); weight, bias: (C) or empty
    public static void Normalize(ReadOnlySpan<float> x, int n, int c, int inner, ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, bool relu = false)
    {
        Check(x.Length, n, c, inner, mean.Length, invStd.Length, "Normalize");
        CheckAffine(c, weight.Length, bias.Length, y.Length, x.Length, "Normalize");
        var ops = NormalizeOps(mean, invStd, weight, bias, relu);
        try
        {
            fixed (float* px = x, py = y)
            {
                float* xp = px, yp = py;
                KernelThreads.For(n * c, (start, end) =>
                {
                    for (int p = start; p < end; p++)
                    {
                        long o = (long)p * inner;
                        Elementwise.Map(ops[p % c], new ReadOnlySpan<float>(xp + o, inner), default, default, new Span<float>(yp + o, inner));
                    }
                });
            }
        }
        finally
        {
            ArrayPool<NormalizeOp>.Shared.Return(ops);
        }
    }

    /// <summary>sumDy[c] = Σ dy and sumDyXhat[c] = invStd[c]·Σ dy·(x − mean[c]) over the channel's N·inner values.</summary>
    // x, dy: (N, C, inner); mean, invStd, sumDy, sumDyXhat: (C), the last two overwritten
    // reluAfter: empty, or the forward's NormalizeOps with relu (dy masked where that output was not positive)
    public static void BackwardSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, Span<double> sumDy, Span<double> sumDyXhat)
        => BackwardSums(x, dy, n, c, inner, mean, invStd, sumDy, sumDyXhat, null);

    /// <summary>The sums of <c>relu(batchnorm(x))</c>'s backward: dy masked where the fused forward's output was not positive.</summary>
    public static void BackwardSumsRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<double> sumDy, Span<double> sumDyXhat)
    {
        Check(x.Length, n, c, inner, mean.Length, invStd.Length, "BackwardSums");
        CheckAffine(c, weight.Length, bias.Length, dy.Length, x.Length, "BackwardSums");
        var reluAfter = NormalizeOps(mean, invStd, weight, bias, relu: true);
        try { BackwardSums(x, dy, n, c, inner, mean, invStd, sumDy, sumDyXhat, reluAfter); }
        finally { ArrayPool<NormalizeOp>.Shared.Return(reluAfter); }
    }

    private static void BackwardSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, Span<double> sumDy, Span<double> sumDyXhat, NormalizeOp[]? reluAfter)
    {
        Check(x.Length, n, c, inner, mean.Length, invStd.Length, "BackwardSums");
        if (dy.Length != x.Length || sumDy.Length != c || sumDyXhat.Length != c)
            throw new ArgumentException($"BatchNorm.BackwardSums: dy of {dy.Length} or sums of {sumDy.Length}, {sumDyXhat.Length} do not match x of (N, C, inner) = ({n}, {c}, {inner}).");
        double[] partA = ArrayPool<double>.Shared.Rent(n * c), partB = ArrayPool<double>.Shared.Rent(n * c);   // as in Statistics
        double[] sa = ArrayPool<double>.Shared.Rent(c), sb = ArrayPool<double>.Shared.Rent(c);
        try
        {
            PlaneSums(x, dy, n, c, inner, mean, partA, partB, reluAfter);
            SumOverImages(partA, n, c, 0, c, sa);
            SumOverImages(partB, n, c, 0, c, sb);
            for (int ch = 0; ch < c; ch++)
            {
                sumDy[ch] = sa[ch];
                sumDyXhat[ch] = sb[ch] * invStd[ch];
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partA);
            ArrayPool<double>.Shared.Return(partB);
            ArrayPool<double>.Shared.Return(sa);
            ArrayPool<double>.Shared.Return(sb);
        }
    }

    /// <summary>
    /// dx = k1·dy + (k2·((x − hi) − lo) + k3) in training with k1 = weight·invStd, k2 = −weight·invStd²·sumDyXhat/count,
    /// k3 = −weight·invStd·sumDy/count (each formed in double); dx = k1·dy in evaluation (x and the sums unused).
    /// </summary>
    // x, dy, dx: (N, C, inner); mean, invStd, sumDy, sumDyXhat: (C); weight: (C) or empty
    // bias: used only with relu (to recompute the forward's output for the mask)
    public static void BackwardInput(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight,
        ReadOnlySpan<double> sumDy, ReadOnlySpan<double> sumDyXhat, bool training, Span<float> dx,
        bool relu = false, ReadOnlySpan<float> bias = default)
    {
        Check(x.Length, n, c, inner, mean.Length, invStd.Length, "BackwardInput");
        CheckAffine(c, weight.Length, bias.Length, dx.Length, x.Length, "BackwardInput");
        if (dy.Length != x.Length || (training && (sumDy.Length != c || sumDyXhat.Length != c)))
            throw new ArgumentException($"BatchNorm.BackwardInput: dy of {dy.Length} or sums of {sumDy.Length}, {sumDyXhat.Length} do not match x of (N, C, inner) = ({n}, {c}, {inner}).");
        var mask = NormalizeOps(mean, invStd, weight, bias, relu);
        var ops = ArrayPool<BackwardOp>.Shared.Rent(c);
        try
        {
            for (int ch = 0; ch < c; ch++) ops[ch] = BackwardOpFor(ch, (double)n * inner, mean, invStd, weight, sumDy, sumDyXhat, training, mask[ch]);
            fixed (float* px = x, pg = dy, pd = dx)
            {
                float* xp = px, gp = pg, dp = pd;
                KernelThreads.For(n * c, (start, end) =>
                {
                    for (int p = start; p < end; p++)
                    {
                        long o = (long)p * inner;
                        Elementwise.Map(ops[p % c], new ReadOnlySpan<float>(xp + o, inner), new ReadOnlySpan<float>(gp + o, inner), default,
                            new Span<float>(dp + o, inner));
                    }
                });
            }
        }
        finally
        {
            ArrayPool<BackwardOp>.Shared.Return(ops);
            ArrayPool<NormalizeOp>.Shared.Return(mask);
        }
    }

    // BackwardInput's operation for channel ch (count values per channel).
    private static BackwardOp BackwardOpFor(int ch, double count, ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight,
        ReadOnlySpan<double> sumDy, ReadOnlySpan<double> sumDyXhat, bool training, NormalizeOp mask)
    {
        double k1 = (weight.IsEmpty ? 1.0 : weight[ch]) * invStd[ch];
        var (hi, lo) = Split(mean[ch]);
        return training
            ? new BackwardOp((float)k1, hi, lo, (float)(-k1 * invStd[ch] * sumDyXhat[ch] / count), (float)(-k1 * sumDy[ch] / count), true, mask)
            : new BackwardOp((float)k1, 0, 0, 0, 0, false, mask);
    }

    // x, g: (N, C, inner); shift: (C); partA, partB: (N·C) overwritten with each plane's Σ g and Σ g·(x − shift)
    private static void PlaneSums(ReadOnlySpan<float> x, ReadOnlySpan<float> g, int n, int c, int inner, ReadOnlySpan<double> shift,
        double[] partA, double[] partB, NormalizeOp[]? reluAfter)
    {
        float[] hi = ArrayPool<float>.Shared.Rent(c), lo = ArrayPool<float>.Shared.Rent(c);
        try
        {
            for (int ch = 0; ch < c; ch++) (hi[ch], lo[ch]) = Split(shift[ch]);
            fixed (float* px = x, pg = g)
            {
                float* xp = px, gp = pg;
                KernelThreads.For(n * c, (start, end) =>
                {
                    for (int p = start; p < end; p++)
                    {
                        long o = (long)p * inner;
                        int ch = p % c;
                        if (reluAfter is null) BatchNormSums.Sums(new GradientMoments(hi[ch], lo[ch]), xp + o, gp + o, inner, out partA[p], out partB[p]);
                        else BatchNormSums.Sums(new ReluMaskedGradientMoments(reluAfter[ch]), xp + o, gp + o, inner, out partA[p], out partB[p]);
                    }
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(hi);
            ArrayPool<float>.Shared.Return(lo);
        }
    }

    // sum[ch] = Σ over images of part[img·C + ch] for channels [c0, c1), in image order; images outer so that the
    // channels' chains of dependent additions overlap.
    private static void SumOverImages(double[] part, int n, int c, int c0, int c1, double[] sum)
    {
        Array.Clear(sum, c0, c1 - c0);
        for (int b = 0; b < n; b++)
            for (int ch = c0; ch < c1; ch++) sum[ch] += part[b * c + ch];
    }

    // value = hi + lo to about 2⁻⁴⁸ relative (hi the nearest float, lo the nearest float to the rest).
    private static (float Hi, float Lo) Split(double value)
    {
        float hi = (float)value;
        return float.IsFinite(hi) ? (hi, (float)(value - hi)) : (hi, 0f);
    }

    private static void Check(int length, int n, int c, int inner, int meanLength, int otherLength, string where)
    {
        if (n < 0 || c < 0 || inner < 0 || (long)n * c * inner != length)
            throw new ArgumentException($"BatchNorm.{where}: x of {length} elements is not (N, C, inner) = ({n}, {c}, {inner}).");
        if (meanLength != c || otherLength != c)
            throw new ArgumentException($"BatchNorm.{where}: per-channel buffers of {meanLength} and {otherLength} do not match {c} channels.");
    }

    private static void CheckAffine(int c, int weightLength, int biasLength, int outLength, int inLength, string where)
    {
        if ((weightLength != 0 && weightLength != c) || (biasLength != 0 && biasLength != c))
            throw new ArgumentException($"BatchNorm.{where}: weight of {weightLength} or bias of {biasLength} does not match {c} channels.");
        if (outLength != inLength)
            throw new ArgumentException($"BatchNorm.{where}: output of {outLength} elements does not match x of {inLength}.");
    }

    // The forward's per-channel operation; Normalize's y and every relu mask come from this one struct. Rented (at least
    // mean.Length long; the caller returns it): a training step makes these for every BatchNorm.
    private static NormalizeOp[] NormalizeOps(ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, bool relu)
    {
        var ops = ArrayPool<NormalizeOp>.Shared.Rent(mean.Length);
        for (int ch = 0; ch < mean.Length; ch++) ops[ch] = NormalizeOpFor(ch, mean, invStd, weight, bias, relu);
        return ops;
    }

    private static NormalizeOp NormalizeOpFor(int ch, ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, bool relu)
    {
        var (hi, lo) = Split(mean[ch]);
        return new NormalizeOp(hi, lo, (float)(invStd[ch] * (weight.IsEmpty ? 1f : weight[ch])), bias.IsEmpty ? 0f : bias[ch], relu);
    }

    // y = ((x − hi) − lo)·scale + bias, then max(y, 0) with relu (NaN stays NaN, as Activations' ReLU).
    internal readonly struct NormalizeOp(float hi, float lo, float scale, float bias, bool relu) : IElementwiseOp
    {
        public float Centred(float x) => (x - hi) - lo;
        public Vector512<float> Centred(Vector512<float> x) => (x - Vector512.Create(hi)) - Vector512.Create(lo);
        public Vector256<float> Centred(Vector256<float> x) => (x - Vector256.Create(hi)) - Vector256.Create(lo);
        public Vector128<float> Centred(Vector128<float> x) => (x - Vector128.Create(hi)) - Vector128.Create(lo);
        public float Affine(float x) => Centred(x) * scale + bias;
        public Vector512<float> Affine(Vector512<float> x) => Centred(x) * scale + Vector512.Create(bias);
        public Vector256<float> Affine(Vector256<float> x) => Centred(x) * scale + Vector256.Create(bias);
        public Vector128<float> Affine(Vector128<float> x) => Centred(x) * scale + Vector128.Create(bias);

        // dy where the forward's output is positive (always dy without relu)
        public float Mask(float x, float g) => !relu || Affine(x) > 0 ? g : 0f;
        public Vector512<float> Mask(Vector512<float> x, Vector512<float> g) => relu ? g & Vector512.GreaterThan(Affine(x), Vector512<float>.Zero) : g;
        public Vector256<float> Mask(Vector256<float> x, Vector256<float> g) => relu ? g & Vector256.GreaterThan(Affine(x), Vector256<float>.Zero) : g;
        public Vector128<float> Mask(Vector128<float> x, Vector128<float> g) => relu ? g & Vector128.GreaterThan(Affine(x), Vector128<float>.Zero) : g;

        public float Invoke(float x, float b, float c) { float y = Affine(x); return !relu || y > 0 ? y : y <= 0 ? 0f : y; }
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> b, Vector512<float> c)
        { var y = Affine(x); return relu ? Vector512.ConditionalSelect(Vector512.LessThanOrEqual(y, Vector512<float>.Zero), Vector512<float>.Zero, y) : y; }
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> b, Vector256<float> c)
        { var y = Affine(x); return relu ? Vector256.ConditionalSelect(Vector256.LessThanOrEqual(y, Vector256<float>.Zero), Vector256<float>.Zero, y) : y; }
        public Vector128<float> Invoke(Vector128<float> x, Vector128<float> b, Vector128<float> c)
        { var y = Affine(x); return relu ? Vector128.ConditionalSelect(Vector128.LessThanOrEqual(y, Vector128<float>.Zero), Vector128<float>.Zero, y) : y; }
    }

    // x in a, dy in b; dy masked first when the forward was fused with a ReLU.
    private readonly struct BackwardOp(float k1, float hi, float lo, float k2, float k3, bool training, NormalizeOp mask) : IElementwiseOp
    {
        public float Invoke(float x, float dy, float c)
        {
            float g = mask.Mask(x, dy);
            return training ? k1 * g + (k2 * ((x - hi) - lo) + k3) : k1 * g;
        }
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy, Vector512<float> c)
        {
            var g = mask.Mask(x, dy);
            return training ? g * k1 + (((x - Vector512.Create(hi)) - Vector512.Create(lo)) * k2 + Vector512.Create(k3)) : g * k1;
        }
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy, Vector256<float> c)
        {
            var g = mask.Mask(x, dy);
            return training ? g * k1 + (((x - Vector256.Create(hi)) - Vector256.Create(lo)) * k2 + Vector256.Create(k3)) : g * k1;
        }
        public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy, Vector128<float> c)
        {
            var g = mask.Mask(x, dy);
            return training ? g * k1 + (((x - Vector128.Create(hi)) - Vector128.Create(lo)) * k2 + Vector128.Create(k3)) : g * k1;
        }
    }
}
