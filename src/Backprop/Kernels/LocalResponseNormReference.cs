namespace Backprop.Kernels;

/// <summary>
/// <see cref="LocalResponseNorm"/> as plain loops in double precision, straight from the definition (the tests'
/// reference): scale = k + a · Σ x² over the window, y = x · scale^−β; dx by the chain rule through every window
/// that holds each input.
/// </summary>
public static class LocalResponseNormReference
{
    // x, y: (N, C, H, W)
    public static void Forward(ReadOnlySpan<float> x, int n, int c, int h, int w, int size, float alpha, float beta, float k, bool acrossChannels, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)(x[i] * Math.Pow(Scale(x, i, n, c, h, w, size, alpha, k, acrossChannels), -beta));
    }

    // x, dy, dx: (N, C, H, W): dx[j] = Σ over outputs i whose window holds j of dy[i] · ∂y[i]/∂x[j]
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int h, int w, int size, float alpha, float beta, float k,
        bool acrossChannels, Span<float> dx)
    {
        double a = acrossChannels ? (double)alpha / size : (double)alpha / (size * size);
        var sum = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double s = Scale(x, i, n, c, h, w, size, alpha, k, acrossChannels);
            sum[i] += dy[i] * Math.Pow(s, -beta);
            // y[i] = x[i] · s^−β and ∂s/∂x[j] = 2a·x[j] for each j in i's window
            double common = dy[i] * x[i] * -beta * Math.Pow(s, -beta - 1) * 2 * a;
            foreach (int j in Window(i, n, c, h, w, size, acrossChannels)) sum[j] += common * x[j];
        }
        for (int i = 0; i < x.Length; i++) dx[i] = (float)sum[i];
    }

    private static double Scale(ReadOnlySpan<float> x, int i, int n, int c, int h, int w, int size, float alpha, float k, bool acrossChannels)
    {
        double a = acrossChannels ? (double)alpha / size : (double)alpha / (size * size), s = 0;
        foreach (int j in Window(i, n, c, h, w, size, acrossChannels)) s += (double)x[j] * x[j];
        return k + a * s;
    }

    // The elements in element i's window: `size` channels around its own, or a size x size neighbourhood in its plane.
    private static List<int> Window(int i, int n, int c, int h, int w, int size, bool acrossChannels)
    {
        int half = size / 2, plane = h * w, image = i / (c * plane), channel = i / plane % c, row = i % plane / w, col = i % w;
        var result = new List<int>();
        if (acrossChannels)
        {
            for (int cc = channel - half; cc <= channel + half; cc++)
                if (cc >= 0 && cc < c) result.Add(((image * c + cc) * h + row) * w + col);
            return result;
        }
        for (int r = row - half; r <= row + half; r++)
            for (int q = col - half; q <= col + half; q++)
                if (r >= 0 && r < h && q >= 0 && q < w) result.Add(((image * c + channel) * h + r) * w + q);
        return result;
    }
}
