namespace Backprop.Kernels;

/// <summary>
/// The definition of <see cref="RoiPool"/> (Caffe's ROIPooling, torchvision 0.14's roi_pool): plain loops, nothing
/// precomputed, no threads. For RoI k with row [b, x1, y1, x2, y2]: sw = round(x1*scale), sh = round(y1*scale),
/// ew = round(x2*scale), eh = round(y2*scale) (halves away from zero); rw = max(ew − sw + 1, 1), rh likewise;
/// bh = rh/PH, bw = rw/PW (float). Bin (ph, pw) covers rows [floor(ph*bh) + sh, ceil((ph+1)*bh) + sh) and columns
/// likewise, clipped to [0, H) and [0, W). y = the bin's largest value (the first one in row-major order; NaN never
/// wins), argmax = its index h*W + w in the plane; an empty bin gives y = 0 and argmax = −1.
/// Backward: dx[b, c, argmax] += dy[k, c, ph, pw] for every bin with an argmax, in the order k, c, ph, pw.
/// </summary>
public static class RoiPoolReference
{
    // x: (N, C, H, W); rois: (K, 5); y: (K, C, PH, PW) overwritten; argmax: (K, C, PH, PW) overwritten
    public static void Forward(in RoiGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> rois, Span<float> y, Span<int> argmax)
    {
        g.CheckBuffers(x.Length, rois, y.Length, argmax.Length);
        for (int k = 0; k < g.RoiCount; k++)
        for (int c = 0; c < g.Channels; c++)
        for (int ph = 0; ph < g.PooledHeight; ph++)
        for (int pw = 0; pw < g.PooledWidth; pw++)
        {
            var roi = rois.Slice(k * 5, 5);
            int b = (int)roi[0];
            int sw = (int)MathF.Round(roi[1] * g.SpatialScale, MidpointRounding.AwayFromZero);
            int sh = (int)MathF.Round(roi[2] * g.SpatialScale, MidpointRounding.AwayFromZero);
            int ew = (int)MathF.Round(roi[3] * g.SpatialScale, MidpointRounding.AwayFromZero);
            int eh = (int)MathF.Round(roi[4] * g.SpatialScale, MidpointRounding.AwayFromZero);
            float bh = (float)Math.Max(eh - sh + 1, 1) / g.PooledHeight;
            float bw = (float)Math.Max(ew - sw + 1, 1) / g.PooledWidth;
            int h0 = Math.Clamp((int)MathF.Floor(ph * bh) + sh, 0, g.Height);
            int h1 = Math.Clamp((int)MathF.Ceiling((ph + 1) * bh) + sh, 0, g.Height);
            int w0 = Math.Clamp((int)MathF.Floor(pw * bw) + sw, 0, g.Width);
            int w1 = Math.Clamp((int)MathF.Ceiling((pw + 1) * bw) + sw, 0, g.Width);
            bool empty = h1 <= h0 || w1 <= w0;
            float best = empty ? 0f : -float.MaxValue;
            int bestIndex = -1;
            int plane = (b * g.Channels + c) * g.Height * g.Width;
            for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++)
            {
                float v = x[plane + h * g.Width + w];
                if (v > best)
                {
                    best = v;
                    bestIndex = h * g.Width + w;
                }
            }
            int o = ((k * g.Channels + c) * g.PooledHeight + ph) * g.PooledWidth + pw;
            y[o] = best;
            argmax[o] = bestIndex;
        }
    }

    // dy: (K, C, PH, PW); rois: (K, 5); argmax: (K, C, PH, PW); dx: (N, C, H, W) overwritten
    public static void Backward(in RoiGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> rois, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        g.CheckBuffers(dx.Length, rois, dy.Length, argmax.Length, backward: true);
        dx.Clear();
        int planeOut = g.PooledHeight * g.PooledWidth;
        for (int k = 0; k < g.RoiCount; k++)
        for (int c = 0; c < g.Channels; c++)
        for (int o = 0; o < planeOut; o++)
        {
            int i = (k * g.Channels + c) * planeOut + o;
            if (argmax[i] < 0) continue;
            int b = (int)rois[k * 5];
            dx[(b * g.Channels + c) * g.Height * g.Width + argmax[i]] += dy[i];
        }
    }
}
