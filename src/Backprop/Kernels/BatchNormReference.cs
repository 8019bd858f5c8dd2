namespace Backprop.Kernels;

/// <summary>
/// The definition of <see cref="BatchNorm"/>: plain loops in double, no SIMD, no threads. Layout x: (N, C, inner),
/// count = N·inner values per channel. mean = Σ x / count, variance = Σ (x − mean)² / count (biased),
/// y = (x − mean)·invStd·weight + bias, sumDy = Σ dy, sumDyXhat = Σ dy·xhat with xhat = (x − mean)·invStd,
/// dx = weight·invStd/count·(count·dy − sumDy − xhat·sumDyXhat) in training and weight·invStd·dy in evaluation.
/// Empty weight means ones, empty bias zeros.
/// </summary>
public static class BatchNormReference
{
    // x: (N, C, inner); mean, variance: (C) overwritten
    public static void Statistics(ReadOnlySpan<float> x, int n, int c, int inner, Span<double> mean, Span<double> variance)
    {
        int count = n * inner;
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < inner; i++) s += x[(b * c + ch) * inner + i];
            double m = s / count, s2 = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < inner; i++)
                {
                    double d = x[(b * c + ch) * inner + i] - m;
                    s2 += d * d;
                }
            mean[ch] = m;
            variance[ch] = s2 / count;
        }
    }

    // x, y: (N, C, inner); mean, invStd: (C); weight, bias: (C) or empty
    public static void Normalize(ReadOnlySpan<float> x, int n, int c, int inner, ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < inner; i++)
                {
                    int at = (b * c + ch) * inner + i;
                    y[at] = (float)((x[at] - mean[ch]) * invStd[ch] * (weight.IsEmpty ? 1.0 : weight[ch]) + (bias.IsEmpty ? 0.0 : bias[ch]));
                }
    }

    // x, dy: (N, C, inner); mean, invStd: (C); sumDy, sumDyXhat: (C) overwritten
    public static void BackwardSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, Span<double> sumDy, Span<double> sumDyXhat)
    {
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0, sx = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < inner; i++)
                {
                    int at = (b * c + ch) * inner + i;
                    s += dy[at];
                    sx += dy[at] * (x[at] - mean[ch]) * invStd[ch];
                }
            sumDy[ch] = s;
            sumDyXhat[ch] = sx;
        }
    }

    // x, dy, dx: (N, C, inner); mean, invStd, sumDy, sumDyXhat: (C); weight: (C) or empty
    public static void BackwardInput(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int inner,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> invStd, ReadOnlySpan<float> weight,
        ReadOnlySpan<double> sumDy, ReadOnlySpan<double> sumDyXhat, bool training, Span<float> dx)
    {
        int count = n * inner;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                double gamma = weight.IsEmpty ? 1.0 : weight[ch];
                for (int i = 0; i < inner; i++)
                {
                    int at = (b * c + ch) * inner + i;
                    if (training)
                    {
                        double xhat = (x[at] - mean[ch]) * invStd[ch];
                        dx[at] = (float)(gamma * invStd[ch] / count * (count * (double)dy[at] - sumDy[ch] - xhat * sumDyXhat[ch]));
                    }
                    else dx[at] = (float)(gamma * invStd[ch] * dy[at]);
                }
            }
    }
}
