using Backprop.Nn;

namespace Backprop.Optim;

/// <summary>Rescales gradients before an optimizer step.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients together so that their global L2 norm is at most <paramref name="maxNorm"/>, exactly as
    /// Caffe's <c>clip_gradients</c>: with <c>norm = sqrt(sum of g^2 over all gradients)</c>, when
    /// <c>norm &gt; maxNorm</c> every gradient is multiplied by <c>maxNorm / norm</c>; otherwise nothing changes.
    /// (PyTorch's <c>clip_grad_norm_</c> scales by <c>maxNorm / (norm + 1e-6)</c> whenever that factor is below 1,
    /// so its clipped norm lands slightly under the maximum; this one lands on it.)
    /// </summary>
    /// <remarks>
    /// Only parameters that require a gradient and have one take part (those an optimizer would update). The sum
    /// of squares is taken in double, parameter by parameter in the order given and element by element, so the
    /// result does not depend on threading. A gradient tensor shared by several parameters counts once. A NaN norm is returned and scales nothing.
    /// </remarks>
    /// <returns>The global norm before clipping.</returns>
    public static double ClipByGlobalNorm(IEnumerable<Parameter> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum gradient norm must be positive.");
        var grads = new List<Tensor>();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var p in parameters)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(parameters));
            if (p.RequiresGrad && p.Grad is { } g && seen.Add(g)) grads.Add(g);
        }
        double sumOfSquares = 0;
        foreach (var g in grads)
            foreach (float x in g.AsSpan()) sumOfSquares += (double)x * x;
        double norm = Math.Sqrt(sumOfSquares);
        if (norm > maxNorm)
        {
            float scale = (float)(maxNorm / norm);
            foreach (var g in grads)
            {
                var d = g.AsSpan();
                for (int i = 0; i < d.Length; i++) d[i] *= scale;
            }
        }
        return norm;
    }
}
