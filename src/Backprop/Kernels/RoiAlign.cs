namespace Backprop.Kernels;

/// <summary>
/// RoIAlign (torchvision 0.14's roi_align), the fast kernel; <see cref="RoiAlignReference"/> is its definition and
/// this kernel gives the same bits. A sample's bilinear position and validity split into a row part (ph, iy) and a
/// column part (pw, ix), so each RoI's samples are precomputed once as two short tables (PH*gh rows, PW*gw columns)
/// and reused for every channel; the four corner weights are products of the two parts, formed as the definition
/// forms them. Forward splits the K*C output planes over the cores; backward splits the N*C input planes, so no two
/// threads add into one element and each element's gradient is added in the definition's order (RoI, bin, sample).
/// </summary>
public static class RoiAlign
{
    // x: (N, C, H, W); rois: (K, 5); y: (K, C, PH, PW) overwritten
    public static unsafe void Forward(in RoiGeometry g, int samplingRatio, bool aligned, ReadOnlySpan<float> x, ReadOnlySpan<float> rois, Span<float> y)
    {
        g.CheckBuffers(x.Length, rois, y.Length);
        var geo = g;
        int planeIn = g.Height * g.Width, planeOut = g.PooledHeight * g.PooledWidth;
        fixed (float* xp = x, rp = rois, yp = y)
        {
            nint xi = (nint)xp, ri = (nint)rp, yi = (nint)yp;
            KernelThreads.For(g.RoiCount * g.Channels, (start, end) =>
            {
                float* xPtr = (float*)xi, rPtr = (float*)ri, yPtr = (float*)yi;
                var rows = new AxisSamples();
                var cols = new AxisSamples();
                int current = -1, image = 0;
                for (int i = start; i < end; i++)
                {
                    int k = i / geo.Channels, c = i % geo.Channels;
                    if (k != current)
                    {
                        image = Prepare(geo, samplingRatio, aligned, new ReadOnlySpan<float>(rPtr + k * 5, 5), rows, cols);
                        current = k;
                    }
                    Pool(geo, rows, cols, xPtr + (long)(image * geo.Channels + c) * planeIn, yPtr + (long)i * planeOut);
                }
            });
        }
    }

    // dy: (K, C, PH, PW); rois: (K, 5); dx: (N, C, H, W) overwritten
    public static unsafe void Backward(in RoiGeometry g, int samplingRatio, bool aligned, ReadOnlySpan<float> dy, ReadOnlySpan<float> rois, Span<float> dx)
    {
        g.CheckBuffers(dx.Length, rois, dy.Length, backward: true);
        var geo = g;
        int planeIn = g.Height * g.Width, planeOut = g.PooledHeight * g.PooledWidth;
        fixed (float* dyp = dy, rp = rois, dxp = dx)
        {
            nint dyi = (nint)dyp, ri = (nint)rp, dxi = (nint)dxp;
            // Chunk [start, end) of the N*C input planes: it alone writes them, RoI by RoI in order.
            KernelThreads.For(g.Batch * g.Channels, (start, end) =>
            {
                float* dyPtr = (float*)dyi, rPtr = (float*)ri, dxPtr = (float*)dxi;
                new Span<float>(dxPtr + (long)start * planeIn, (end - start) * planeIn).Clear();
                var rows = new AxisSamples();
                var cols = new AxisSamples();
                for (int k = 0; k < geo.RoiCount; k++)
                {
                    int image = (int)rPtr[k * 5];
                    int c0 = Math.Max(start - image * geo.Channels, 0), c1 = Math.Min(end - image * geo.Channels, geo.Channels);
                    if (c0 >= c1) continue;
                    Prepare(geo, samplingRatio, aligned, new ReadOnlySpan<float>(rPtr + k * 5, 5), rows, cols);
                    for (int c = c0; c < c1; c++)
                        Scatter(geo, rows, cols, dyPtr + (long)(k * geo.Channels + c) * planeOut, dxPtr + (long)(image * geo.Channels + c) * planeIn);
                }
            });
        }
    }

    /// <summary>Fills the row and column sample tables of one RoI; returns its image index.</summary>
    private static int Prepare(in RoiGeometry g, int samplingRatio, bool aligned, ReadOnlySpan<float> roi, AxisSamples rows, AxisSamples cols)
    {
        float offset = aligned ? 0.5f : 0f;
        float startW = roi[1] * g.SpatialScale - offset;
        float startH = roi[2] * g.SpatialScale - offset;
        float roiW = roi[3] * g.SpatialScale - offset - startW;
        float roiH = roi[4] * g.SpatialScale - offset - startH;
        if (!aligned)
        {
            roiW = Math.Max(roiW, 1f);
            roiH = Math.Max(roiH, 1f);
        }
        int gridH = samplingRatio > 0 ? samplingRatio : Math.Max((int)MathF.Ceiling(roiH / g.PooledHeight), 0);
        int gridW = samplingRatio > 0 ? samplingRatio : Math.Max((int)MathF.Ceiling(roiW / g.PooledWidth), 0);
        rows.Fill(startH, roiH / g.PooledHeight, gridH, g.PooledHeight, g.Height, g.Width);
        cols.Fill(startW, roiW / g.PooledWidth, gridW, g.PooledWidth, g.Width, 1);
        return (int)roi[0];
    }

    // x: (H, W) one plane; y: (PH, PW) one RoI's plane
    private static unsafe void Pool(in RoiGeometry g, AxisSamples rows, AxisSamples cols, float* x, float* y)
    {
        int gh = rows.Grid, gw = cols.Grid, pooledWidth = g.PooledWidth;
        float count = Math.Max((long)gh * gw, 1);
        fixed (AxisSample* rs = rows.Items, cs = cols.Items)
        {
            for (int ph = 0; ph < g.PooledHeight; ph++)
            for (int pw = 0; pw < pooledWidth; pw++)
            {
                float sum = 0f;
                for (AxisSample* r = rs + ph * gh, rEnd = r + gh; r < rEnd; r++)
                {
                    if (r->Low < 0) continue;
                    float* row0 = x + r->Low, row1 = x + r->High;
                    float hy = r->LowWeight, ly = r->HighWeight;
                    for (AxisSample* c = cs + pw * gw, cEnd = c + gw; c < cEnd; c++)
                    {
                        if (c->Low < 0) continue;
                        int q0 = c->Low, q1 = c->High;
                        float hx = c->LowWeight, lx = c->HighWeight;
                        sum += hy * hx * row0[q0] + hy * lx * row0[q1] + ly * hx * row1[q0] + ly * lx * row1[q1];
                    }
                }
                y[ph * pooledWidth + pw] = sum / count;
            }
        }
    }

    // dy: (PH, PW) one RoI's plane; dx: (H, W) one plane, added into
    private static unsafe void Scatter(in RoiGeometry g, AxisSamples rows, AxisSamples cols, float* dy, float* dx)
    {
        int gh = rows.Grid, gw = cols.Grid, pooledWidth = g.PooledWidth;
        float count = (long)gh * gw;
        fixed (AxisSample* rs = rows.Items, cs = cols.Items)
        {
            for (int ph = 0; ph < g.PooledHeight; ph++)
            for (int pw = 0; pw < pooledWidth; pw++)
            {
                float d = dy[ph * pooledWidth + pw];
                for (AxisSample* r = rs + ph * gh, rEnd = r + gh; r < rEnd; r++)
                {
                    if (r->Low < 0) continue;
                    float* row0 = dx + r->Low, row1 = dx + r->High;
                    float hy = r->LowWeight, ly = r->HighWeight;
                    for (AxisSample* c = cs + pw * gw, cEnd = c + gw; c < cEnd; c++)
                    {
                        if (c->Low < 0) continue;
                        int q0 = c->Low, q1 = c->High;
                        float hx = c->LowWeight, lx = c->HighWeight;
                        row0[q0] += d * (hy * hx) / count;
                        row0[q1] += d * (hy * lx) / count;
                        row1[q0] += d * (ly * hx) / count;
                        row1[q1] += d * (ly * lx) / count;
                    }
                }
            }
        }
    }

    /// <summary>One sample coordinate: its two neighbours (row offsets or columns; Low = −1 when the sample lies outside) and weights.</summary>
    private struct AxisSample
    {
        public int Low, High;
        public float LowWeight, HighWeight;
    }

    /// <summary>
    /// One axis of a RoI's samples: sample s = bin*Grid + i has coordinate start + bin*binSize + (i + ½)*binSize/Grid;
    /// outside [−1, size] it contributes nothing, else it has two neighbours (times <c>stride</c>: row offsets or columns) and weights.
    /// </summary>
    private sealed class AxisSamples
    {
        public int Grid;
        public AxisSample[] Items = [];

        public void Fill(float start, float binSize, int grid, int bins, int size, int stride)
        {
            Grid = grid;
            int n = grid * bins;
            if (Items.Length < n) Items = new AxisSample[n];
            for (int bin = 0; bin < bins; bin++)
            for (int i = 0; i < grid; i++)
            {
                ref AxisSample s = ref Items[bin * grid + i];
                float v = start + bin * binSize + (i + .5f) * binSize / grid;
                if (v < -1f || v > size)
                {
                    s.Low = -1;
                    continue;
                }
                if (v <= 0) v = 0;
                int low = (int)v, high;
                if (low >= size - 1) { low = high = size - 1; v = low; }
                else high = low + 1;
                float l = v - low;
                s.Low = low * stride;
                s.High = high * stride;
                s.HighWeight = l;
                s.LowWeight = 1f - l;
            }
        }
    }
}
