namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Batch normalization over (N, C, ...) per channel: y = (x − mean) / √(var + eps) · weight + bias.
    /// In training the batch's mean and biased variance normalize, and the running statistics move
    /// by <paramref name="momentum"/> toward the batch mean and unbiased variance (as PyTorch);
    /// in evaluation the running statistics normalize.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2) throw new ArgumentException($"BatchNorm expects input of shape (N, C, ...), got {input.Shape}.");
        int n = input.Shape[0], c = input.Shape[1], inner = input.Length / Math.Max(n * c, 1);
        foreach (var (name, t) in new[] { ("running mean", runningMean), ("running var", runningVar), ("weight", weight), ("bias", bias) })
            if (t is not null && (t.Rank != 1 || t.Shape[0] != c))
                throw new ArgumentException($"BatchNorm: {name} of shape {t.Shape} does not match {c} channels of input {input.Shape}.");
        int count = n * inner;
        if (training && count <= 1)
            throw new ArgumentException($"BatchNorm in training needs more than one value per channel, got input {input.Shape}.");

        var mean = new float[c];
        var invStd = new float[c];
        var x = input.Data;
        for (int ch = 0; ch < c; ch++)
        {
            double m, v;
            if (training)
            {
                double s = 0, s2 = 0;
                for (int b = 0; b < n; b++)
                    foreach (float value in x.Slice((b * c + ch) * inner, inner)) s += value;
                m = s / count;
                for (int b = 0; b < n; b++)
                    foreach (float value in x.Slice((b * c + ch) * inner, inner)) s2 += (value - m) * (value - m);
                v = s2 / count;
                var rm = runningMean.AsSpan();
                var rv = runningVar.AsSpan();
                rm[ch] = (float)((1 - momentum) * rm[ch] + momentum * m);
                rv[ch] = (float)((1 - momentum) * rv[ch] + momentum * s2 / (count - 1));
            }
            else
            {
                m = runningMean.Data[ch];
                v = runningVar.Data[ch];
            }
            mean[ch] = (float)m;
            invStd[ch] = (float)(1.0 / Math.Sqrt(v + eps));
        }

        var y = Tensor.Result(input.Shape);
        var yd = y.AsSpan();
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                float scale = invStd[ch] * (weight is null ? 1f : weight.Data[ch]);
                float shift = (bias is null ? 0f : bias.Data[ch]) - mean[ch] * scale;
                int o = (b * c + ch) * inner;
                for (int i = 0; i < inner; i++) yd[o + i] = x[o + i] * scale + shift;
            }

        var inputs = new List<Tensor> { input };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        return Tensor.Record(y, "NativeBatchNormBackward", (dy, needs) =>
        {
            var g = dy.Data;
            var x = input.Data;
            var sumDy = new double[c];
            var sumDyXhat = new double[c];
            for (int b = 0; b < n; b++)
                for (int ch = 0; ch < c; ch++)
                {
                    int o = (b * c + ch) * inner;
                    for (int i = 0; i < inner; i++)
                    {
                        sumDy[ch] += g[o + i];
                        sumDyXhat[ch] += g[o + i] * (x[o + i] - mean[ch]) * invStd[ch];
                    }
                }
            var grads = new Tensor?[inputs.Count];
            if (needs[0])
            {
                var dx = Tensor.Result(input.Shape);
                var d = dx.AsSpan();
                for (int b = 0; b < n; b++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        double gamma = weight is null ? 1.0 : weight.Data[ch];
                        int o = (b * c + ch) * inner;
                        for (int i = 0; i < inner; i++)
                        {
                            if (training)
                            {
                                double xhat = (x[o + i] - mean[ch]) * invStd[ch];
                                d[o + i] = (float)(gamma * invStd[ch] / count * (count * g[o + i] - sumDy[ch] - xhat * sumDyXhat[ch]));
                            }
                            else d[o + i] = (float)(gamma * invStd[ch] * g[o + i]);
                        }
                    }
                grads[0] = dx;
            }
            int next = 1;
            if (weight is not null)
            {
                if (needs[next]) grads[next] = Tensor.FromArray(Array.ConvertAll(sumDyXhat, v => (float)v), c);
                next++;
            }
            if (bias is not null && needs[next]) grads[next] = Tensor.FromArray(Array.ConvertAll(sumDy, v => (float)v), c);
            return grads;
        }, inputs.ToArray());
    }
}
