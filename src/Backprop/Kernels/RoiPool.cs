namespace Backprop.Kernels;

/// <summary>
/// RoI max pooling (Caffe's ROIPooling, torchvision 0.14's roi_pool), the fast kernel; <see cref="RoiPoolReference"/>
/// is its definition and this kernel gives the same bits. Each RoI's bin bounds are computed once and reused for every
/// channel. Forward splits the K*C output planes over the cores; backward splits the N*C input planes, so no two
/// threads add into one element and each element's gradient is added in the definition's order (RoI, bin).
/// </summary>
public static unsafe class RoiPool
{
    // x: (N, C, H, W); rois: (K, 5); y: (K, C, PH, PW) overwritten; argmax: (K, C, PH, PW) overwritten with h*W + w or -1
    public static void Forward(in RoiGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> rois, Span<float> y, Span<int> argmax)
    {
        g.CheckBuffers(x.Length, rois, y.Length, argmax.Length);
        var geo = g;
        int planeIn = g.Height * g.Width, planeOut = g.PooledHeight * g.PooledWidth;
        fixed (float* xp = x, rp = rois, yp = y)
        fixed (int* ap = argmax)
        {
            nint xi = (nint)xp, ri = (nint)rp, yi = (nint)yp, ai = (nint)ap;
            KernelThreads.For(g.RoiCount * g.Channels, (start, end) =>
            {
                var bins = new Bins(geo.PooledHeight, geo.PooledWidth);
                int current = -1, image = 0;
                for (int i = start; i < end; i++)
                {
                    int k = i / geo.Channels, c = i % geo.Channels;
                    if (k != current)
                    {
                        image = bins.Fill(geo, (float*)ri + k * 5);
                        current = k;
                    }
                    MaxPlane(geo, bins, (float*)xi + (long)(image * geo.Channels + c) * planeIn,
                        (float*)yi + (long)i * planeOut, (int*)ai + (long)i * planeOut);
                }
            });
        }
    }

    // dy: (K, C, PH, PW); rois: (K, 5); argmax: (K, C, PH, PW); dx: (N, C, H, W) overwritten
    public static void Backward(in RoiGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> rois, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        g.CheckBuffers(dx.Length, rois, dy.Length, argmax.Length, backward: true);
        var geo = g;
        int planeIn = g.Height * g.Width, planeOut = g.PooledHeight * g.PooledWidth;
        foreach (int a in argmax)   // indices into a plane, written through pointers below
            if (a < -1 || a >= planeIn)
                throw new ArgumentException($"RoiPool: argmax value {a} is outside [-1, {planeIn}) for a {g.Height}x{g.Width} plane.", nameof(argmax));
        fixed (float* dyp = dy, rp = rois, dxp = dx)
        fixed (int* ap = argmax)
        {
            nint dyi = (nint)dyp, ri = (nint)rp, dxi = (nint)dxp, ai = (nint)ap;
            // Chunk [start, end) of the N*C input planes: it alone writes them, RoI by RoI in order.
            KernelThreads.For(g.Batch * g.Channels, (start, end) =>
            {
                new Span<float>((float*)dxi + (long)start * planeIn, (end - start) * planeIn).Clear();
                for (int k = 0; k < geo.RoiCount; k++)
                {
                    int image = (int)((float*)ri)[k * 5];
                    int c0 = Math.Max(start - image * geo.Channels, 0), c1 = Math.Min(end - image * geo.Channels, geo.Channels);
                    for (int c = c0; c < c1; c++)
                    {
                        long o = (long)(k * geo.Channels + c) * planeOut;
                        float* d = (float*)dxi + (long)(image * geo.Channels + c) * planeIn;
                        float* src = (float*)dyi + o;
                        int* arg = (int*)ai + o;
                        for (int j = 0; j < planeOut; j++)
                            if (arg[j] >= 0) d[arg[j]] += src[j];
                    }
                }
            });
        }
    }

    // x: (H, W) one plane; y, argmax: (PH, PW) one RoI's plane
    private static void MaxPlane(in RoiGeometry g, Bins bins, float* x, float* y, int* argmax)
    {
        for (int ph = 0; ph < g.PooledHeight; ph++)
        {
            int h0 = bins.RowStart[ph], h1 = bins.RowEnd[ph];
            for (int pw = 0; pw < g.PooledWidth; pw++)
            {
                int w0 = bins.ColStart[pw], w1 = bins.ColEnd[pw];
                bool empty = h1 <= h0 || w1 <= w0;
                float best = empty ? 0f : -float.MaxValue;
                int bestIndex = -1;
                for (int h = h0; h < h1; h++)
                {
                    float* row = x + h * g.Width;
                    for (int w = w0; w < w1; w++)
                        if (row[w] > best)
                        {
                            best = row[w];
                            bestIndex = h * g.Width + w;
                        }
                }
                y[ph * g.PooledWidth + pw] = best;
                argmax[ph * g.PooledWidth + pw] = bestIndex;
            }
        }
    }

    /// <summary>One RoI's bin bounds on the feature map: rows [RowStart[ph], RowEnd[ph]), columns [ColStart[pw], ColEnd[pw]).</summary>
    private sealed class Bins(int pooledHeight, int pooledWidth)
    {
        public readonly int[] RowStart = new int[pooledHeight], RowEnd = new int[pooledHeight];
        public readonly int[] ColStart = new int[pooledWidth], ColEnd = new int[pooledWidth];

        /// <summary>Fills the bounds for one RoI row; returns its image index.</summary>
        public int Fill(in RoiGeometry g, float* roi)
        {
            int sw = (int)MathF.Round(roi[1] * g.SpatialScale, MidpointRounding.AwayFromZero);
            int sh = (int)MathF.Round(roi[2] * g.SpatialScale, MidpointRounding.AwayFromZero);
            int ew = (int)MathF.Round(roi[3] * g.SpatialScale, MidpointRounding.AwayFromZero);
            int eh = (int)MathF.Round(roi[4] * g.SpatialScale, MidpointRounding.AwayFromZero);
            float bh = (float)Math.Max(eh - sh + 1, 1) / g.PooledHeight;
            float bw = (float)Math.Max(ew - sw + 1, 1) / g.PooledWidth;
            for (int ph = 0; ph < g.PooledHeight; ph++)
            {
                RowStart[ph] = Math.Clamp((int)MathF.Floor(ph * bh) + sh, 0, g.Height);
                RowEnd[ph] = Math.Clamp((int)MathF.Ceiling((ph + 1) * bh) + sh, 0, g.Height);
            }
            for (int pw = 0; pw < g.PooledWidth; pw++)
            {
                ColStart[pw] = Math.Clamp((int)MathF.Floor(pw * bw) + sw, 0, g.Width);
                ColEnd[pw] = Math.Clamp((int)MathF.Ceiling((pw + 1) * bw) + sw, 0, g.Width);
            }
            return (int)roi[0];
        }
    }
}
