namespace Backprop.Kernels;

/// <summary>
/// Softmax and log-softmax along the middle axis of an (outer, n, inner) view. Stable for any
/// finite logits: the maximum is subtracted before exponentiating, and sums are in double.
/// </summary>
public static class Softmax
{
    // x, y: (outer, n, inner)
    public static void Forward(ReadOnlySpan<float> x, int outer, int n, int inner, Span<float> y, bool log)
    {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int b = o * n * inner + j;
                float max = float.NegativeInfinity;
                for (int k = 0; k < n; k++) max = Math.Max(max, x[b + k * inner]);
                double sum = 0;
                for (int k = 0; k < n; k++) sum += Math.Exp(x[b + k * inner] - max);
                if (log)
                {
                    // (x − max) − log Σ: adding max to log Σ first would round to max's precision (6e-5 at 1000).
                    double logSum = Math.Log(sum);
                    for (int k = 0; k < n; k++) y[b + k * inner] = (float)((x[b + k * inner] - max) - logSum);
                }
                else
                {
                    for (int k = 0; k < n; k++) y[b + k * inner] = (float)(Math.Exp(x[b + k * inner] - max) / sum);
                }
            }
    }

    // From the saved output y: softmax dx = y·(dy − Σ dy·y); log-softmax dx = dy − e^y·Σ dy.
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int outer, int n, int inner, Span<float> dx, bool log)
    {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int b = o * n * inner + j;
                double s = 0;
                if (log)
                {
                    for (int k = 0; k < n; k++) s += dy[b + k * inner];
                    for (int k = 0; k < n; k++) dx[b + k * inner] = (float)(dy[b + k * inner] - Math.Exp(y[b + k * inner]) * s);
                }
                else
                {
                    for (int k = 0; k < n; k++) s += dy[b + k * inner] * y[b + k * inner];
                    for (int k = 0; k < n; k++) dx[b + k * inner] = (float)(y[b + k * inner] * (dy[b + k * inner] - s));
                }
            }
    }
}
