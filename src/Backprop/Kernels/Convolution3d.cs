using System.Buffers;
using System.Numerics.Tensors;

namespace Backprop.Kernels;

/// <summary>
/// 3-D convolution (cross-correlation) as vol2col + GEMM, one image and group at a time (Caffe's CPU path for N-D convolution).
/// y[n, k] = bias[k] + Σ over c in k's group, kd, kh, kw of weight[k, c, kd, kh, kw] · x[n, c, id, ih, iw].
/// Images run in order and GEMM keeps its fixed partition, so results do not depend on the thread count.
/// </summary>
public static class Convolution3d
{
    // x: (N, C, D, H, W); weight: (K, C/groups, KD, KH, KW); bias: (K) or empty; y: (N, K, OD, OH, OW) overwritten
    /// <summary>The forward pass.</summary>
    public static void Forward(in Conv3dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        Check(g, x.Length, weight.Length, y.Length);
        int cg = g.GroupInChannels, kg = g.GroupOutChannels, rows = cg * g.KernelVolume, p = g.OutputVolume, vin = g.InputVolume;
        float[] col = ArrayPool<float>.Shared.Rent(rows * p);
        try
        {
            for (int n = 0; n < g.Batch; n++)
            for (int grp = 0; grp < g.Groups; grp++)
            {
                Vol2Col.Unfold(g, cg, x.Slice((n * g.InChannels + grp * cg) * vin, cg * vin), col.AsSpan(0, rows * p));
                var yg = y.Slice((n * g.OutChannels + grp * kg) * p, kg * p);
                Gemm.Sgemm(false, false, kg, p, rows, 1f, weight.Slice(grp * kg * rows, kg * rows), rows, col.AsSpan(0, rows * p), p, 0f, yg, p);
                if (bias.Length != 0)
                    for (int k = 0; k < kg; k++) TensorPrimitives.Add(yg.Slice(k * p, p), bias[grp * kg + k], yg.Slice(k * p, p));
            }
        }
        finally { ArrayPool<float>.Shared.Return(col); }
    }

    // dy: (N, K, OD, OH, OW); weight: (K, C/groups, KD, KH, KW); dx: (N, C, D, H, W) overwritten
    /// <summary>The input gradient: Wᵀ·dy per image and group, folded back (col2vol).</summary>
    public static void BackwardData(in Conv3dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx)
    {
        Check(g, dx.Length, weight.Length, dy.Length);
        int cg = g.GroupInChannels, kg = g.GroupOutChannels, rows = cg * g.KernelVolume, p = g.OutputVolume, vin = g.InputVolume;
        dx.Clear();
        float[] col = ArrayPool<float>.Shared.Rent(rows * p);
        try
        {
            for (int n = 0; n < g.Batch; n++)
            for (int grp = 0; grp < g.Groups; grp++)
            {
                var c = col.AsSpan(0, rows * p);
                Gemm.Sgemm(true, false, rows, p, kg, 1f, weight.Slice(grp * kg * rows, kg * rows), rows,
                    dy.Slice((n * g.OutChannels + grp * kg) * p, kg * p), p, 0f, c, p);
                Vol2Col.FoldAdd(g, cg, c, dx.Slice((n * g.InChannels + grp * cg) * vin, cg * vin));
            }
        }
        finally { ArrayPool<float>.Shared.Return(col); }
    }

    // x: (N, C, D, H, W); dy: (N, K, OD, OH, OW); dWeight: (K, C/groups, KD, KH, KW) overwritten; dBias: (K) overwritten, or empty
    /// <summary>The weight gradient Σ over images of dy·colᵀ (images added in order), and the bias gradient when asked.</summary>
    public static void BackwardWeights(in Conv3dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dWeight, Span<float> dBias)
    {
        Check(g, x.Length, dWeight.Length, dy.Length);
        if (dBias.Length != 0 && dBias.Length != g.OutChannels) throw new ArgumentException($"Conv3d: dBias needs {g.OutChannels} elements, got {dBias.Length}.");
        int cg = g.GroupInChannels, kg = g.GroupOutChannels, rows = cg * g.KernelVolume, p = g.OutputVolume, vin = g.InputVolume;
        dWeight.Clear();
        dBias.Clear();
        float[] col = ArrayPool<float>.Shared.Rent(rows * p);
        try
        {
            for (int n = 0; n < g.Batch; n++)
            for (int grp = 0; grp < g.Groups; grp++)
            {
                var c = col.AsSpan(0, rows * p);
                Vol2Col.Unfold(g, cg, x.Slice((n * g.InChannels + grp * cg) * vin, cg * vin), c);
                var dyg = dy.Slice((n * g.OutChannels + grp * kg) * p, kg * p);
                Gemm.Sgemm(false, true, kg, rows, p, 1f, dyg, p, c, p, 1f, dWeight.Slice(grp * kg * rows, kg * rows), rows);
                if (dBias.Length != 0)
                    for (int k = 0; k < kg; k++) dBias[grp * kg + k] += TensorPrimitives.Sum(dyg.Slice(k * p, p));
            }
        }
        finally { ArrayPool<float>.Shared.Return(col); }
    }

    private static void Check(in Conv3dGeometry g, int xLength, int weightLength, int yLength)
    {
        g.Validate();
        long xs = (long)g.Batch * g.InChannels * g.InputVolume, ws = (long)g.OutChannels * g.GroupInChannels * g.KernelVolume;
        long ys = (long)g.Batch * g.OutChannels * g.OutputVolume;
        if (xLength != xs || weightLength != ws || yLength != ys)
            throw new ArgumentException($"Conv3d: x, weight and y need {xs}, {ws} and {ys} elements, got {xLength}, {weightLength} and {yLength}.");
    }
}
