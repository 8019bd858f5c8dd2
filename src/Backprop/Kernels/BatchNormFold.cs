namespace Backprop.Kernels;

/// <summary>
/// The arithmetic of folding an evaluation-mode BatchNorm into the convolution before it, in one place so that every
/// fold gives the same bits (<see cref="Nn.Fusion"/>'s folded layers, and an imported ONNX graph's inference plan, which
/// keeps its folded weights inside the convolution's weight caches). In evaluation BatchNorm is y[k] = x[k]·s[k] + t[k]
/// with s[k] = gamma[k] / √(var[k] + eps) and t[k] = beta[k] − mean[k]·s[k], so the convolution before it becomes one with
/// W'[k] = W[k]·s[k] and b'[k] = (b[k] − mean[k])·s[k] + beta[k]. The scale is computed in double, as BatchNorm's own
/// 1/√(var + eps), and each folded value is the exact product rounded once to float.
/// </summary>
internal static class BatchNormFold
{
    /// <summary>s[k] = gamma[k] / √(var[k] + eps); gamma empty: 1.</summary>
    public static void Scales(ReadOnlySpan<float> gamma, ReadOnlySpan<float> variance, float eps, Span<double> scale)
    {
        for (int k = 0; k < scale.Length; k++)
            scale[k] = (gamma.IsEmpty ? 1.0 : gamma[k]) / Math.Sqrt((double)variance[k] + eps);
    }

    /// <summary>W'[k, ...] = W[k, ...]·s[k] for weights laid out (K, ...), each rounded once.</summary>
    public static void Weights(ReadOnlySpan<float> weight, ReadOnlySpan<double> scale, Span<float> folded)
    {
        int perChannel = weight.Length / scale.Length;
        for (int k = 0; k < scale.Length; k++)
        {
            double s = scale[k];
            for (int j = k * perChannel; j < (k + 1) * perChannel; j++) folded[j] = (float)(weight[j] * s);
        }
    }

    /// <summary>b'[k] = (b[k] − mean[k])·s[k] + beta[k]; bias or beta empty: 0.</summary>
    public static void Bias(ReadOnlySpan<float> bias, ReadOnlySpan<float> mean, ReadOnlySpan<float> beta, ReadOnlySpan<double> scale, Span<float> folded)
    {
        for (int k = 0; k < scale.Length; k++)
            folded[k] = (float)(((bias.IsEmpty ? 0.0 : bias[k]) - mean[k]) * scale[k] + (beta.IsEmpty ? 0.0 : beta[k]));
    }
}
