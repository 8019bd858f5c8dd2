namespace Backprop.Kernels;

/// <summary>
/// The definition of <see cref="RoiAlign"/> (torchvision 0.14's roi_align): plain loops, nothing precomputed,
/// no threads, in float32 with torchvision's order of operations (so the fast kernel can match it bit for bit).
/// For RoI k with row [b, x1, y1, x2, y2], o = 0.5 when aligned else 0:
///   sw = x1*scale − o, sh = y1*scale − o, rw = x2*scale − o − sw, rh = y2*scale − o − sh
///   (not aligned: rw, rh at least 1); bin sizes bh = rh/PH, bw = rw/PW;
///   grid gh = samplingRatio if positive else ceil(rh/PH) (likewise gw; a negative grid counts as 0).
/// y[k, c, ph, pw] = Σ over iy &lt; gh, ix &lt; gw of bilinear(x[b, c], sh + ph*bh + (iy + ½)*bh/gh, sw + pw*bw + (ix + ½)*bw/gw)
///   divided by max(gh*gw, 1).
/// bilinear(v, yy, xx): 0 when yy &lt; −1, yy &gt; H, xx &lt; −1 or xx &gt; W; else yy, xx below 0 become 0, a low
/// corner at or past H−1 (W−1) pins both corners and the coordinate to H−1 (W−1), and the four corners are
/// weighted (1−ly)(1−lx), (1−ly)lx, ly(1−lx), ly·lx.
/// </summary>
public static class RoiAlignReference
{
    // x: (N, C, H, W); rois: (K, 5); y: (K, C, PH, PW) overwritten
    public static void Forward(in RoiGeometry g, int samplingRatio, bool aligned, ReadOnlySpan<float> x, ReadOnlySpan<float> rois, Span<float> y)
    {
        g.CheckBuffers(x.Length, rois, y.Length);
        for (int k = 0; k < g.RoiCount; k++)
        for (int c = 0; c < g.Channels; c++)
        for (int ph = 0; ph < g.PooledHeight; ph++)
        for (int pw = 0; pw < g.PooledWidth; pw++)
        {
            Window(g, samplingRatio, aligned, rois.Slice(k * 5, 5), out int b, out float sh, out float sw, out float bh, out float bw, out int gh, out int gw);
            float count = Math.Max((long)gh * gw, 1);
            int plane = (b * g.Channels + c) * g.Height * g.Width;
            float sum = 0f;
            for (int iy = 0; iy < gh; iy++)
            for (int ix = 0; ix < gw; ix++)
            {
                float yy = sh + ph * bh + (iy + .5f) * bh / gh;
                float xx = sw + pw * bw + (ix + .5f) * bw / gw;
                if (!Bilinear(g.Height, g.Width, yy, xx, out int y0, out int y1, out int x0, out int x1, out float w1, out float w2, out float w3, out float w4))
                    continue;
                sum += w1 * x[plane + y0 * g.Width + x0] + w2 * x[plane + y0 * g.Width + x1]
                    + w3 * x[plane + y1 * g.Width + x0] + w4 * x[plane + y1 * g.Width + x1];
            }
            y[((k * g.Channels + c) * g.PooledHeight + ph) * g.PooledWidth + pw] = sum / count;
        }
    }

    // dy: (K, C, PH, PW); rois: (K, 5); dx: (N, C, H, W) overwritten
    public static void Backward(in RoiGeometry g, int samplingRatio, bool aligned, ReadOnlySpan<float> dy, ReadOnlySpan<float> rois, Span<float> dx)
    {
        g.CheckBuffers(dx.Length, rois, dy.Length, backward: true);
        dx.Clear();
        for (int k = 0; k < g.RoiCount; k++)
        for (int c = 0; c < g.Channels; c++)
        for (int ph = 0; ph < g.PooledHeight; ph++)
        for (int pw = 0; pw < g.PooledWidth; pw++)
        {
            Window(g, samplingRatio, aligned, rois.Slice(k * 5, 5), out int b, out float sh, out float sw, out float bh, out float bw, out int gh, out int gw);
            float count = (long)gh * gw;
            int plane = (b * g.Channels + c) * g.Height * g.Width;
            float d = dy[((k * g.Channels + c) * g.PooledHeight + ph) * g.PooledWidth + pw];
            for (int iy = 0; iy < gh; iy++)
            for (int ix = 0; ix < gw; ix++)
            {
                float yy = sh + ph * bh + (iy + .5f) * bh / gh;
                float xx = sw + pw * bw + (ix + .5f) * bw / gw;
                if (!Bilinear(g.Height, g.Width, yy, xx, out int y0, out int y1, out int x0, out int x1, out float w1, out float w2, out float w3, out float w4))
                    continue;
                dx[plane + y0 * g.Width + x0] += d * w1 / count;
                dx[plane + y0 * g.Width + x1] += d * w2 / count;
                dx[plane + y1 * g.Width + x0] += d * w3 / count;
                dx[plane + y1 * g.Width + x1] += d * w4 / count;
            }
        }
    }

    private static void Window(in RoiGeometry g, int samplingRatio, bool aligned, ReadOnlySpan<float> roi,
        out int image, out float startH, out float startW, out float binH, out float binW, out int gridH, out int gridW)
    {
        float offset = aligned ? 0.5f : 0f;
        image = (int)roi[0];
        startW = roi[1] * g.SpatialScale - offset;
        startH = roi[2] * g.SpatialScale - offset;
        float roiW = roi[3] * g.SpatialScale - offset - startW;
        float roiH = roi[4] * g.SpatialScale - offset - startH;
        if (!aligned)
        {
            roiW = Math.Max(roiW, 1f);
            roiH = Math.Max(roiH, 1f);
        }
        binH = roiH / g.PooledHeight;
        binW = roiW / g.PooledWidth;
        gridH = samplingRatio > 0 ? samplingRatio : Math.Max((int)MathF.Ceiling(roiH / g.PooledHeight), 0);
        gridW = samplingRatio > 0 ? samplingRatio : Math.Max((int)MathF.Ceiling(roiW / g.PooledWidth), 0);
    }

    private static bool Bilinear(int height, int width, float yy, float xx, out int y0, out int y1, out int x0, out int x1,
        out float w1, out float w2, out float w3, out float w4)
    {
        y0 = y1 = x0 = x1 = 0;
        w1 = w2 = w3 = w4 = 0f;
        if (yy < -1f || yy > height || xx < -1f || xx > width) return false;
        if (yy <= 0) yy = 0;
        if (xx <= 0) xx = 0;
        y0 = (int)yy;
        x0 = (int)xx;
        if (y0 >= height - 1) { y0 = y1 = height - 1; yy = y0; }
        else y1 = y0 + 1;
        if (x0 >= width - 1) { x0 = x1 = width - 1; xx = x0; }
        else x1 = x0 + 1;
        float ly = yy - y0, lx = xx - x0, hy = 1f - ly, hx = 1f - lx;
        w1 = hy * hx;
        w2 = hy * lx;
        w3 = ly * hx;
        w4 = ly * lx;
        return true;
    }
}
