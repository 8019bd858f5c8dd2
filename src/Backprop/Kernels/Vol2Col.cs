namespace Backprop.Kernels;

/// <summary>
/// im2col for 3-D convolution: row ((c·KD + kd)·KH + kh)·KW + kw, column (od·OH + oh)·OW + ow holds
/// x[c, od·sD − pD + kd·dD, oh·sH − pH + kh·dH, ow·sW − pW + kw·dW], zero outside the volume.
/// </summary>
public static class Vol2Col
{
    // x: (channels, D, H, W); col: (channels·KD·KH·KW, OD·OH·OW) overwritten
    /// <summary>Fills the column matrix from <paramref name="channels"/> channels of one image.</summary>
    public static void Unfold(in Conv3dGeometry g, int channels, ReadOnlySpan<float> x, Span<float> col) => Walk(g, channels, x, col, default, unfold: true);

    // col: (channels·KD·KH·KW, OD·OH·OW); dx: (channels, D, H, W) accumulated into
    /// <summary>Adds the column matrix back into the channels of one image (col2vol).</summary>
    public static void FoldAdd(in Conv3dGeometry g, int channels, ReadOnlySpan<float> col, Span<float> dx) => Walk(g, channels, col, default, dx, unfold: false);

    private static void Walk(in Conv3dGeometry g, int channels, ReadOnlySpan<float> src, Span<float> col, Span<float> dx, bool unfold)
    {
        var (od, oh, ow) = g.Output;
        var (d, h, w) = g.Input;
        int row = 0;
        for (int c = 0; c < channels; c++)
        for (int kd = 0; kd < g.Kernel.D; kd++)
        for (int kh = 0; kh < g.Kernel.H; kh++)
        for (int kw = 0; kw < g.Kernel.W; kw++, row++)
        {
            int at = row * od * oh * ow;
            for (int z = 0; z < od; z++)
            {
                int iz = z * g.Stride.D - g.Pad.D + kd * g.Dilation.D;
                for (int y = 0; y < oh; y++)
                {
                    int iy = y * g.Stride.H - g.Pad.H + kh * g.Dilation.H;
                    bool inside = (uint)iz < (uint)d && (uint)iy < (uint)h;
                    int plane = ((c * d + iz) * h + iy) * w;
                    for (int x = 0; x < ow; x++, at++)
                    {
                        int ix = x * g.Stride.W - g.Pad.W + kw * g.Dilation.W;
                        bool ok = inside && (uint)ix < (uint)w;
                        if (unfold) col[at] = ok ? src[plane + ix] : 0f;
                        else if (ok) dx[plane + ix] += src[at];
                    }
                }
            }
        }
    }
}
