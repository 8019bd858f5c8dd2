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
        g.Validate();
        RoiGeometry.CheckLength("x", x.Length, g.InputLength);
        g.CheckRois(rois);
        RoiGeometry.CheckLength("y", y.Length, g.OutputLength);
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
        g.Validate();
        RoiGeometry.CheckLength("dy", dy.Length, g.OutputLength);
        g.CheckRois(rois);
        RoiGeometry.CheckLength("dx", dx.Length, g.InputLength);
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
        int gh = rows.Grid, gw = cols.Grid;
        float count = Math.Max((long)gh * gw, 1);
        for (int ph = 0; ph < g.PooledHeight; ph++)
        for (int pw = 0; pw < g.PooledWidth; pw++)
        {
            float sum = 0f;
            for (int sy = ph * gh; sy < (ph + 1) * gh; sy++)
            {
                if (!rows.Valid[sy]) continue;
                int r0 = rows.Low[sy], r1 = rows.High[sy];
                float hy = rows.LowWeight[sy], ly = rows.HighWeight[sy];
                for (int sx = pw * gw; sx < (pw + 1) * gw; sx++)
                {
                    if (!cols.Valid[sx]) continue;
                    int q0 = cols.Low[sx], q1 = cols.High[sx];
                    float hx = cols.LowWeight[sx], lx = cols.HighWeight[sx];
                    sum += hy * hx * x[r0 + q0] + hy * lx * x[r0 + q1] + ly * hx * x[r1 + q0] + ly * lx * x[r1 + q1];
                }
            }
            y[ph * g.PooledWidth + pw] = sum / count;
        }
    }

    // dy: (PH, PW) one RoI's plane; dx: (H, W) one plane, added into
    private static unsafe void Scatter(in RoiGeometry g, AxisSamples rows, AxisSamples cols, float* dy, float* dx)
    {
        int gh = rows.Grid, gw = cols.Grid;
        float count = (long)gh * gw;
        for (int ph = 0; ph < g.PooledHeight; ph++)
        for (int pw = 0; pw < g.PooledWidth; pw++)
        {
            float d = dy[ph * g.PooledWidth + pw];
            for (int sy = ph * gh; sy < (ph + 1) * gh; sy++)
            {
                if (!rows.Valid[sy]) continue;
                int r0 = rows.Low[sy], r1 = rows.High[sy];
                float hy = rows.LowWeight[sy], ly = rows.HighWeight[sy];
                for (int sx = pw * gw; sx < (pw + 1) * gw; sx++)
                {
                    if (!cols.Valid[sx]) continue;
                    int q0 = cols.Low[sx], q1 = cols.High[sx];
                    float hx = cols.LowWeight[sx], lx = cols.HighWeight[sx];
                    dx[r0 + q0] += d * (hy * hx) / count;
                    dx[r0 + q1] += d * (hy * lx) / count;
                    dx[r1 + q0] += d * (ly * hx) / count;
                    dx[r1 + q1] += d * (ly * lx) / count;
                }
            }
        }
    }

    /// <summary>
    /// One axis of a RoI's samples: for sample s = bin*Grid + i, coordinate start + bin*binSize + (i + ½)*binSize/Grid,
    /// whether it lies within [−1, size], its two neighbours (times <c>stride</c>: row offsets or columns) and weights.
    /// </summary>
    private sealed class AxisSamples
    {
        public int Grid;
        public int[] Low = [], High = [];
        public float[] LowWeight = [], HighWeight = [];
        public bool[] Valid = [];

        public void Fill(float start, float binSize, int grid, int bins, int size, int stride)
        {
            Grid = grid;
            int n = grid * bins;
            if (Low.Length < n)
            {
                Low = new int[n];
                High = new int[n];
                LowWeight = new float[n];
                HighWeight = new float[n];
                Valid = new bool[n];
            }
            for (int bin = 0; bin < bins; bin++)
            for (int i = 0; i < grid; i++)
            {
                int s = bin * grid + i;
                float v = start + bin * binSize + (i + .5f) * binSize / grid;
                Valid[s] = !(v < -1f || v > size);
                if (!Valid[s]) continue;
                if (v <= 0) v = 0;
                int low = (int)v, high;
                if (low >= size - 1) { low = high = size - 1; v = low; }
                else high = low + 1;
                float l = v - low;
                Low[s] = low * stride;
                High[s] = high * stride;
                HighWeight[s] = l;
                LowWeight[s] = 1f - l;
            }
        }
    }
}
