using System.Buffers;

namespace Backprop.Kernels;

/// <summary>
/// A 1x1 convolution with a stride and no padding (ResNet's stride-2 shortcuts) is a pointwise convolution of the
/// subsampled input: x is subsampled once into (N, C, OH, OW) and the pointwise paths of <see cref="Convolution"/> run
/// on it (a GEMM straight on each image's plane). Backward-data runs the pointwise backward-data into a subsampled
/// buffer and spreads it onto dx's sampled positions, zeros elsewhere; the weight gradient is the pointwise one against
/// the subsampled x. Through the general paths the weight gradient took 4x the pointwise one's time, and backward-data
/// folded columns that are mostly zero. Subsampling and spreading only move floats, so the bits are those of the
/// pointwise paths: the same for any <see cref="KernelThreads.Count"/>.
/// </summary>
internal static unsafe class ConvolutionStridedPointwise
{
    /// <summary>True for a 1x1 kernel, no padding and a stride other than 1x1 (any groups and dilation).</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.KernelHeight == 1 && g.KernelWidth == 1 && g.PadHeight == 0 && g.PadWidth == 0 && (g.StrideHeight != 1 || g.StrideWidth != 1);

    /// <summary>The pointwise convolution on the subsampled input: its input is OH x OW, its output the same as g's.</summary>
    public static Conv2dGeometry Subsampled(in Conv2dGeometry g) =>
        new(g.Batch, g.InChannels, g.OutHeight, g.OutWidth, g.OutChannels, 1, 1, 1, 1, 0, 0, 1, 1, g.Groups);

    // x: (N, C, H, W); weight: (K, C/groups, 1, 1); bias: (K) or empty; y: (N, K, OH, OW) overwritten
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        bool relu)
    {
        Conv2dGeometry s = Subsampled(g);
        float[] xs = ArrayPool<float>.Shared.Rent((int)s.InputLength);
        try
        {
            Subsample(g, x, xs);
            Convolution.Forward(s, xs.AsSpan(0, (int)s.InputLength), weight, bias, y, relu);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xs);
        }
    }

    // dy: (N, K, OH, OW); weight: (K, C/groups, 1, 1); dx: (N, C, H, W) overwritten
    public static void BackwardData(in Conv2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx)
    {
        Conv2dGeometry s = Subsampled(g);
        float[] dxs = ArrayPool<float>.Shared.Rent((int)s.InputLength);
        try
        {
            Conv2dGeometry t = Transposed(g);
            if (g.Groups == 1 && ConvolutionDirect.Applies(t)) TransposedForward(t, dy, weight, dxs);
            else Convolution.BackwardData(s, dy, weight, dxs.AsSpan(0, (int)s.InputLength));
            Spread(g, dxs, dx);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dxs);
        }
    }

    /// <summary>
    /// Backward-data of the subsampled convolution as a forward one: dy (N, K, OH, OW) read by the weights transposed,
    /// (C, K, 1, 1). The direct forward reads dy's panels in place; the pointwise backward-data's GEMM per image packed
    /// them, which cost ResNet's 32->64 shortcut (8x8 planes) more than the whole product.
    /// </summary>
    public static Conv2dGeometry Transposed(in Conv2dGeometry g) =>
        new(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, 1, 1, 1, 1, 0, 0, 1, 1, 1);

    private static void TransposedForward(in Conv2dGeometry t, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, float[] dxs)
    {
        int k = t.InChannels, c = t.OutChannels;
        float[] transposed = ArrayPool<float>.Shared.Rent(k * c);
        try
        {
            // transposed[cc, kk] = weight[kk, cc]
            for (int kk = 0; kk < k; kk++)
                for (int cc = 0; cc < c; cc++) transposed[cc * k + kk] = weight[kk * c + cc];
            fixed (float* pdy = dy, pw = transposed, pdxs = dxs) ConvolutionDirect.Forward(t, pdy, pw, null, pdxs);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transposed);
        }
    }

    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C/groups, 1, 1) overwritten; dBias: (K) overwritten, or empty
    public static void BackwardWeights(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dWeight, Span<float> dBias)
    {
        Conv2dGeometry s = Subsampled(g);
        float[] xs = ArrayPool<float>.Shared.Rent((int)s.InputLength);
        try
        {
            Subsample(g, x, xs);
            Convolution.BackwardWeights(s, xs.AsSpan(0, (int)s.InputLength), dy, dWeight, dBias);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xs);
        }
    }

    // xs[n, c, i, j] = x[n, c, sH*i, sW*j]; threads split the (image, channel) planes.
    private static void Subsample(in Conv2dGeometry g, ReadOnlySpan<float> x, float[] xs)
    {
        Conv2dGeometry geo = g;
        fixed (float* px = x, pxs = xs)
        {
            nint ix = (nint)px, ixs = (nint)pxs;
            KernelThreads.For(g.Batch * g.InChannels, (p0, p1) => SubsamplePlanes(geo, p0, p1, (float*)ix, (float*)ixs));
        }
    }

    private static void SubsamplePlanes(in Conv2dGeometry g, int p0, int p1, float* x, float* xs)
    {
        int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, sh = g.StrideHeight, sw = g.StrideWidth, width = SimdWidth.Max;
        for (int p = p0; p < p1; p++)
        {
            float* src = x + (long)p * h * w, dst = xs + (long)p * oh * ow;
            for (int i = 0; i < oh; i++, dst += ow)
            {
                float* row = src + (long)sh * i * w;
                if (sw == 1) ConvolutionWeightGradient.Copy(width, row, dst, ow);
                else if (sw == 2) StridedRows.GatherEven(width, row, dst, ow);
                else for (int j = 0; j < ow; j++) dst[j] = row[(long)sw * j];
            }
        }
    }

    // dx[n, c, sH*i, sW*j] = dxs[n, c, i, j], every other element of dx zero; threads split the planes.
    private static void Spread(in Conv2dGeometry g, float[] dxs, Span<float> dx)
    {
        Conv2dGeometry geo = g;
        fixed (float* pdxs = dxs, pdx = dx)
        {
            nint idxs = (nint)pdxs, idx = (nint)pdx;
            KernelThreads.For(g.Batch * g.InChannels, (p0, p1) => SpreadPlanes(geo, p0, p1, (float*)idxs, (float*)idx));
        }
    }

    private static void SpreadPlanes(in Conv2dGeometry g, int p0, int p1, float* dxs, float* dx)
    {
        int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, sh = g.StrideHeight, sw = g.StrideWidth, width = SimdWidth.Max;
        for (int p = p0; p < p1; p++)
        {
            float* src = dxs + (long)p * oh * ow, dst = dx + (long)p * h * w;
            for (int r = 0; r < h; r++, dst += w)
            {
                int i = r / sh;
                if (r % sh != 0 || i >= oh)
                {
                    new Span<float>(dst, w).Clear();
                    continue;
                }
                float* row = src + (long)i * ow;
                if (sw == 1) ConvolutionWeightGradient.Copy(width, row, dst, w);
                else if (sw == 2) StridedRows.SpreadEven(width, row, dst, ow, w);
                else
                {
                    new Span<float>(dst, w).Clear();
                    for (int j = 0; j < ow; j++) dst[(long)sw * j] = row[j];
                }
            }
        }
    }
}
