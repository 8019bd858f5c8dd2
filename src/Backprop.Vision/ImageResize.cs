namespace Backprop.Vision;

/// <summary>Resizing with OpenCV's <c>INTER_LINEAR</c> rule, as Caffe's <c>cv::resize</c> applies it.</summary>
public static class ImageResize
{
    /// <summary>
    /// Bilinear resize to <paramref name="newHeight"/> × <paramref name="newWidth"/>, each channel alone.
    /// Pixel centres are aligned (half-pixel): output column x samples source column
    /// <c>sx = (x + 0.5) · W / newWidth − 0.5</c>, clamped to [0, W − 1] (the edge pixel repeats), and the
    /// value is <c>(1 − a) · S[⌊sx⌋] + a · S[⌊sx⌋ + 1]</c> with <c>a = sx − ⌊sx⌋</c>; rows likewise, horizontal
    /// pass first. Values stay float: OpenCV on 8-bit images rounds to integers (differences below 0.5).
    /// Plain loops; an exact 2× reduction averages pixel pairs, as OpenCV's does.
    /// </summary>
    public static Image Bilinear(Image image, int newHeight, int newWidth)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(newHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(newWidth);
        int c = image.Channels, h = image.Height, w = image.Width;
        var (x0, ax) = Taps(w, newWidth);
        var (y0, ay) = Taps(h, newHeight);
        var src = image.Pixels;
        var dst = new float[checked(c * newHeight * newWidth)];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < newHeight; y++)
            {
                int top = (ch * h + y0[y]) * w;
                int bottom = (ch * h + Math.Min(y0[y] + 1, h - 1)) * w;
                for (int x = 0; x < newWidth; x++)
                {
                    int left = x0[x], right = Math.Min(x0[x] + 1, w - 1);
                    float upper = src[top + left] * (1 - ax[x]) + src[top + right] * ax[x];
                    float lower = src[bottom + left] * (1 - ax[x]) + src[bottom + right] * ax[x];
                    dst[(ch * newHeight + y) * newWidth + x] = upper * (1 - ay[y]) + lower * ay[y];
                }
            }
        return new Image(c, newHeight, newWidth, dst);
    }

    /// <summary>For each output index: the left source index and the weight of the one after it (OpenCV's <c>xofs</c>/<c>alpha</c>).</summary>
    private static (int[] Index, float[] Weight) Taps(int size, int newSize)
    {
        double scale = 1.0 / ((double)newSize / size);   // as OpenCV: 1 / inv_scale
        var index = new int[newSize];
        var weight = new float[newSize];
        for (int i = 0; i < newSize; i++)
        {
            float f = (float)((i + 0.5) * scale - 0.5);
            int s = (int)MathF.Floor(f);
            f -= s;
            if (s < 0) (s, f) = (0, 0);
            if (s >= size - 1) (s, f) = (size - 1, 0);
            index[i] = s;
            weight[i] = f;
        }
        return (index, weight);
    }
}
