namespace Backprop.Kernels;

/// <summary>
/// The epilogue of a convolution fused with a residual Add and a ReLU (ResNet's y = ReLU(conv(x) + shortcut)): each
/// thread, right after its share of the convolution, makes its own part of y the sum ReLU(y + residual) while that part
/// is still in its core's cache. Done as a separate pass over the whole output after the convolution, the Add read y back
/// out of both cores (half of it from the other core's cache) and took about 8% of ResNet-20's batch-1 time on the
/// calling thread alone. The float operations are <see cref="Activations.AddReluForward"/>'s, so the bits are those of
/// the convolution followed by that op.
/// </summary>
internal static unsafe class ConvolutionResidual
{
    /// <summary>Output channels [k0, k1) of every image. y, residual: (N, K, plane)</summary>
    public static void Channels(float* y, float* residual, int batch, int channels, int plane, int k0, int k1)
    {
        for (int n = 0; n < batch; n++)
        {
            long at = ((long)n * channels + k0) * plane;
            Run(y + at, residual + at, (k1 - k0) * plane);
        }
    }

    /// <summary>Pixels [p0, p1) of image n in every channel. y, residual: (N, K, plane)</summary>
    public static void Pixels(float* y, float* residual, int n, int channels, int plane, int p0, int p1)
    {
        for (int k = 0; k < channels; k++)
        {
            long at = ((long)n * channels + k) * plane + p0;
            Run(y + at, residual + at, p1 - p0);
        }
    }

    /// <summary>
    /// Winograd tiles [t0, t1) of the plan (tiles numbered image by image, row by row, each Step x Step output pixels, cut
    /// at the image's edge), in every output channel: whole tile rows as one run of pixels per channel, the part-rows at
    /// either end row by row (a call per row of every tile row had cost more than the sum itself). y, residual: (N, K, OH, OW)
    /// </summary>
    public static void Tiles(in WinogradPlan p, float* y, float* residual, int t0, int t1)
    {
        int step = p.Step, w = p.TilesW;
        for (int t = t0; t < t1;)
        {
            int n = t / p.TilesPerImage, q = t % p.TilesPerImage, tr = q / w, tc = q % w, end = Math.Min(t1 - t + q, p.TilesPerImage);
            int run;
            if (tc == 0 && end - q >= w)
            {
                int rows = (end - q) / w;   // whole tile rows from tr
                int r0 = step * tr, r1 = Math.Min(p.OH, step * (tr + rows));
                for (int k = 0; k < p.K; k++)
                {
                    long at = (((long)n * p.K + k) * p.OH + r0) * p.OW;
                    Run(y + at, residual + at, (r1 - r0) * p.OW);
                }
                run = rows * w;
            }
            else
            {
                run = Math.Min(end - q, w - tc);   // the rest of this tile row, or the tiles up to t1 in it
                int r0 = step * tr, r1 = Math.Min(p.OH, r0 + step), c0 = step * tc, c1 = Math.Min(p.OW, step * (tc + run));
                for (int k = 0; k < p.K; k++)
                    for (int r = r0; r < r1; r++)
                    {
                        long at = (((long)n * p.K + k) * p.OH + r) * p.OW + c0;
                        Run(y + at, residual + at, c1 - c0);
                    }
            }
            t += run;
        }
    }

    private static void Run(float* y, float* residual, int length)
    {
        var out_ = new Span<float>(y, length);
        Activations.AddReluForward(out_, new ReadOnlySpan<float>(residual, length), out_);
    }
}
