namespace Backprop.Kernels;

/// <summary>
/// Smooth L1 per element with optional inside and outside weights (py-faster-rcnn's SmoothL1Loss layer):
/// d = wᵢₙ·(x − t); l = 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β (β = 0: |d|); loss = wₒᵤₜ·l.
/// An empty weight span means weight 1.
/// </summary>
internal static class SmoothL1
{
    internal static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> t, ReadOnlySpan<float> inside, ReadOnlySpan<float> outside,
        float beta, Span<float> d, Span<float> loss)   // x, t, inside, outside, d, loss: (L)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float di = x[i] - t[i];
            if (!inside.IsEmpty) di *= inside[i];
            d[i] = di;
            float a = MathF.Abs(di);
            float l = a < beta ? 0.5f * di * di / beta : a - 0.5f * beta;
            loss[i] = outside.IsEmpty ? l : outside[i] * l;
        }
    }

    /// <summary>
    /// dx[i] = dy[i]·wₒᵤₜ·wᵢₙ·(d/β where |d| &lt; β, else sign d), d from <see cref="Forward"/>; dy of length 1 is
    /// broadcast (a reduced loss), scale multiplies every term (1/L for a mean).
    /// </summary>
    internal static void Backward(ReadOnlySpan<float> d, ReadOnlySpan<float> inside, ReadOnlySpan<float> outside, float beta,
        ReadOnlySpan<float> dy, float scale, Span<float> dx)   // d, inside, outside, dx: (L); dy: (L) or (1)
    {
        for (int i = 0; i < d.Length; i++)
        {
            float di = d[i];
            float g = MathF.Abs(di) < beta ? di / beta : MathF.Sign(di);
            if (!inside.IsEmpty) g *= inside[i];
            if (!outside.IsEmpty) g *= outside[i];
            dx[i] = g * scale * (dy.Length == 1 ? dy[0] : dy[i]);
        }
    }
}
