namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Caffe's MVN on <paramref name="input"/> seen as <paramref name="groups"/> rows of equal length D: each row less
    /// its mean m, and with <paramref name="normalizeVariance"/> divided by s + ε where s = √(Σ(x − m)²/D) (the biased
    /// deviation; ε is added to the deviation, not the variance). Backward is Caffe's: dx = dy − mean(dy) without
    /// variance normalization, else dx = (dy − mean(dy) − y·mean(dy·y)) / (s + ε) — the exact gradient when ε = 0, and
    /// finite for a constant row (where s = 0) unlike the gradient of the composed ops.
    /// </summary>
    /// <param name="input">x, any shape whose element count <paramref name="groups"/> divides.</param>
    /// <param name="groups">Number of rows normalized separately: N·C per channel, N across channels.</param>
    public static Tensor MeanVarianceNorm(Tensor input, int groups, bool normalizeVariance = true, float eps = 1e-9f)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (groups <= 0 || input.Length % groups != 0)
            throw new ArgumentException($"MeanVarianceNorm: {groups} groups do not divide the {input.Length} elements of {input.Shape}.");
        int dim = input.Length / groups;
        var y = Tensor.Uninitialized(input.Shape);
        var denominators = new float[groups];   // s + ε per row, kept for backward
        var x = input.Data;
        var yd = y.AsSpan();
        for (int r = 0; r < groups; r++)
        {
            var row = x.Slice(r * dim, dim);
            var outRow = yd.Slice(r * dim, dim);
            double sum = 0;
            foreach (float v in row) sum += v;
            float mean = dim == 0 ? 0 : (float)(sum / dim);
            double squares = 0;
            for (int i = 0; i < dim; i++)
            {
                outRow[i] = row[i] - mean;
                squares += (double)outRow[i] * outRow[i];
            }
            if (!normalizeVariance) continue;
            float denominator = MathF.Sqrt(dim == 0 ? 0 : (float)(squares / dim)) + eps;
            denominators[r] = denominator;
            for (int i = 0; i < dim; i++) outRow[i] /= denominator;
        }
        return Tensor.Record(y, "MeanVarianceNormBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            var d = dx.AsSpan();
            var g = dy.Data;
            var ys = y.Data;
            for (int r = 0; r < groups; r++)
            {
                var gRow = g.Slice(r * dim, dim);
                var yRow = ys.Slice(r * dim, dim);
                var dRow = d.Slice(r * dim, dim);
                double gSum = 0, gySum = 0;
                for (int i = 0; i < dim; i++)
                {
                    gSum += gRow[i];
                    gySum += (double)gRow[i] * yRow[i];
                }
                float gMean = (float)(gSum / dim), gyMean = (float)(gySum / dim);
                if (!normalizeVariance)
                {
                    for (int i = 0; i < dim; i++) dRow[i] = gRow[i] - gMean;
                    continue;
                }
                float inverse = 1 / denominators[r];
                for (int i = 0; i < dim; i++) dRow[i] = (gRow[i] - gMean - yRow[i] * gyMean) * inverse;
            }
            return [dx];
        }, input);
    }
}
