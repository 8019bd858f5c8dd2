namespace Backprop.Kernels;

/// <summary>
/// Stochastic pooling (Zeiler and Fergus 2013, as Caffe computes it). Windows start at (oh·strideH, ow·strideW) with no padding and
/// are clipped to the input. Training samples one element of each window with probability proportional to its value; testing takes
/// the probability-weighted average Σx² / Σx (0 when Σx ≤ 0). Inputs are meant to be non-negative (after a ReLU).
/// Plain loops: the op is rare, so this is both the definition and the path that runs.
/// </summary>
public static class StochasticPooling
{
    // x: (N, C, H, W); uniform: (N, C, OH, OW) draws in [0, 1); y: (N, C, OH, OW) overwritten; index: (N, C, OH, OW) overwritten with h*W + w
    /// <summary>
    /// Picks, in each window, the first element (row-major) at which the running sum reaches uniform·Σx, and its value; when rounding or
    /// negative inputs keep the running sum below that, the window's last element.
    /// </summary>
    public static void SampleForward(in Pool2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> uniform, Span<float> y, Span<int> index)
    {
        Check(g, x.Length, y.Length);
        if (uniform.Length != y.Length || index.Length != y.Length)
            throw new ArgumentException($"StochasticPooling: uniform and index need {y.Length} elements, got {uniform.Length} and {index.Length}.");
        int plane = g.InHeight * g.InWidth;
        for (int p = 0, o = 0; p < g.Batch * g.Channels; p++)
        {
            var xp = x.Slice(p * plane, plane);
            for (int i = 0; i < g.OutHeight; i++)
            for (int j = 0; j < g.OutWidth; j++, o++)
            {
                (int hs, int he, int ws, int we) = Window(g, i, j);
                float sum = 0;
                for (int h = hs; h < he; h++)
                for (int w = ws; w < we; w++) sum += xp[h * g.InWidth + w];
                int chosen = Pick(xp, g.InWidth, hs, he, ws, we, uniform[o] * sum);
                index[o] = chosen;
                y[o] = xp[chosen];
            }
        }
    }

    // x: (N, C, H, W); y: (N, C, OH, OW) overwritten
    /// <summary>y = Σx² / Σx over each window, or 0 where Σx ≤ 0.</summary>
    public static void WeightedAverageForward(in Pool2dGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        Check(g, x.Length, y.Length);
        int plane = g.InHeight * g.InWidth;
        for (int p = 0, o = 0; p < g.Batch * g.Channels; p++)
        {
            var xp = x.Slice(p * plane, plane);
            for (int i = 0; i < g.OutHeight; i++)
            for (int j = 0; j < g.OutWidth; j++, o++)
            {
                (float sum, float squares) = WindowSums(g, xp, i, j);
                y[o] = sum > 0 ? squares / sum : 0;
            }
        }
    }

    // Σx and Σx² over output (i, j)'s window of one plane, in row order (forward and backward add them alike).
    private static (float Sum, float Squares) WindowSums(in Pool2dGeometry g, ReadOnlySpan<float> plane, int i, int j)
    {
        (int hs, int he, int ws, int we) = Window(g, i, j);
        float sum = 0, squares = 0;
        for (int h = hs; h < he; h++)
        for (int w = ws; w < we; w++)
        {
            float v = plane[h * g.InWidth + w];
            sum += v;
            squares += v * v;
        }
        return (sum, squares);
    }

    // x: (N, C, H, W); dy: (N, C, OH, OW); dx: (N, C, H, W) overwritten
    /// <summary>The gradient of <see cref="WeightedAverageForward"/>: ∂y/∂x = (2x·Σx − Σx²) / (Σx)² where Σx &gt; 0, else 0.</summary>
    public static void WeightedAverageBackward(in Pool2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        Check(g, x.Length, dy.Length);
        if (dx.Length != x.Length) throw new ArgumentException($"StochasticPooling: dx needs {x.Length} elements, got {dx.Length}.");
        dx.Clear();
        int plane = g.InHeight * g.InWidth;
        for (int p = 0, o = 0; p < g.Batch * g.Channels; p++)
        {
            var xp = x.Slice(p * plane, plane);
            var dxp = dx.Slice(p * plane, plane);
            for (int i = 0; i < g.OutHeight; i++)
            for (int j = 0; j < g.OutWidth; j++, o++)
            {
                (float sum, float squares) = WindowSums(g, xp, i, j);
                if (!(sum > 0)) continue;
                (int hs, int he, int ws, int we) = Window(g, i, j);
                float scale = dy[o] / (sum * sum);
                for (int h = hs; h < he; h++)
                for (int w = ws; w < we; w++)
                    dxp[h * g.InWidth + w] += scale * (2 * xp[h * g.InWidth + w] * sum - squares);
            }
        }
    }

    private static int Pick(ReadOnlySpan<float> xp, int width, int hs, int he, int ws, int we, float threshold)
    {
        float running = 0;
        for (int h = hs; h < he; h++)
        for (int w = ws; w < we; w++)
        {
            running += xp[h * width + w];
            if (running >= threshold) return h * width + w;
        }
        return (he - 1) * width + we - 1;
    }

    private static (int HStart, int HEnd, int WStart, int WEnd) Window(in Pool2dGeometry g, int i, int j)
    {
        int hs = i * g.StrideHeight, ws = j * g.StrideWidth;
        return (hs, Math.Min(hs + g.KernelHeight, g.InHeight), ws, Math.Min(ws + g.KernelWidth, g.InWidth));
    }

    private static void Check(in Pool2dGeometry g, int xLength, int yLength)
    {
        g.Validate();
        if (g.PadHeight != 0 || g.PadWidth != 0) throw new ArgumentException($"StochasticPooling: takes no padding, got {g.PadHeight}x{g.PadWidth}.");
        if (xLength != g.InputLength || yLength != g.OutputLength)
            throw new ArgumentException($"StochasticPooling: x and y need {g.InputLength} and {g.OutputLength} elements, got {xLength} and {yLength}.");
    }
}
