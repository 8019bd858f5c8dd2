using System.Buffers;
using System.Numerics.Tensors;

namespace Backprop.Kernels;

/// <summary>
/// 2-D convolution (cross-correlation, as in Caffe and PyTorch) by im2col and GEMM, one image
/// (and one group) at a time so the column buffer stays small. A 1x1 convolution with stride 1 and
/// no padding needs no im2col: the (C, H*W) input plane is already the column matrix.
/// Threaded over the batch; a single image threads inside GEMM instead. Results are identical for
/// any <see cref="KernelThreads.Count"/>. See <see cref="ConvolutionReference"/> for the definition.
/// </summary>
public static unsafe class Convolution
{
    private const long SlabWeightBudget = 32L << 20; // floats of partial weight sums BackwardWeights may hold
    private const int MaxSlabs = 8;

    /// <summary>y[n, k] = bias[k] + sum over c in k's group, kh, kw of weight[k, c, kh, kw] * x[n, c, ih, iw].</summary>
    // x: (N, C, H, W); weight: (K, C/groups, KH, KW); bias: (K) or empty; y: (N, K, OH, OW) overwritten
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        g.Validate();
        CheckLength("x", x.Length, g.InputLength, "(N, C, H, W)");
        CheckLength("weight", weight.Length, g.WeightLength, "(K, C/groups, KH, KW)");
        CheckLength("y", y.Length, g.OutputLength, "(N, K, OH, OW)");
        if (bias.Length != 0) CheckLength("bias", bias.Length, g.OutChannels, "(K)");
        Conv2dGeometry geo = g;
        int biasLength = bias.Length;
        fixed (float* px = x, pw = weight, pb = bias, py = y)
        {
            if (UsesImplicitGemm(geo))
            {
                ConvolutionImplicitGemm.Forward(geo, px, pw, biasLength != 0 ? pb : null, py);
                return;
            }
            nint ix = (nint)px, iw = (nint)pw, ib = (nint)pb, iy = (nint)py;
            int t = TileImages(geo);
            if (t > 1)
                OverImages(Tiles(geo, t), (s, e) => ForwardTiles(geo, t, s, e, (float*)ix, (float*)iw, (float*)ib, biasLength, (float*)iy));
            else
                OverImages(geo.Batch, (s, e) => ForwardImages(geo, s, e, (float*)ix, (float*)iw, (float*)ib, biasLength, (float*)iy));
        }
    }

    /// <summary>dx = the gradient of Forward's y with respect to x, given dy.</summary>
    // dy: (N, K, OH, OW); weight: (K, C/groups, KH, KW); dx: (N, C, H, W) overwritten
    public static void BackwardData(in Conv2dGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx)
    {
        g.Validate();
        CheckLength("dy", dy.Length, g.OutputLength, "(N, K, OH, OW)");
        CheckLength("weight", weight.Length, g.WeightLength, "(K, C/groups, KH, KW)");
        CheckLength("dx", dx.Length, g.InputLength, "(N, C, H, W)");
        Conv2dGeometry geo = g;
        fixed (float* pdy = dy, pw = weight, pdx = dx)
        {
            // One image: panels of it cannot go to different threads (they add into the same dx), so GEMM threads instead.
            if (UsesImplicitGemm(geo) && geo.Batch > 1)
            {
                ConvolutionImplicitGemm.BackwardData(geo, pdy, pw, pdx);
                return;
            }
            nint idy = (nint)pdy, iw = (nint)pw, idx = (nint)pdx;
            int t = TileImages(geo);
            if (t > 1)
                OverImages(Tiles(geo, t), (s, e) => BackwardDataTiles(geo, t, s, e, (float*)idy, (float*)iw, (float*)idx));
            else
                OverImages(geo.Batch, (s, e) => BackwardDataImages(geo, s, e, (float*)idy, (float*)iw, (float*)idx));
        }
    }

    /// <summary>dWeight and dBias = the gradients of Forward's y with respect to weight and bias, given dy.</summary>
    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C/groups, KH, KW) overwritten; dBias: (K) overwritten, or empty to skip
    public static void BackwardWeights(in Conv2dGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dWeight, Span<float> dBias)
    {
        g.Validate();
        CheckLength("x", x.Length, g.InputLength, "(N, C, H, W)");
        CheckLength("dy", dy.Length, g.OutputLength, "(N, K, OH, OW)");
        CheckLength("dWeight", dWeight.Length, g.WeightLength, "(K, C/groups, KH, KW)");
        if (dBias.Length != 0) CheckLength("dBias", dBias.Length, g.OutChannels, "(K)");

        int n = g.Batch;
        int weightLength = (int)g.WeightLength;
        // Images are summed in a fixed number of slabs (independent of the thread count), each slab
        // in image order, then the slabs are added in order: the same sum for any number of threads.
        // A slab holds at least SlabPixels output pixels, so its dot products pay for their final sums.
        int slabs = (int)Math.Max(1, Math.Min(Math.Min(n, MaxSlabs), SlabWeightBudget / Math.Max(1, weightLength)));
        slabs = (int)Math.Max(1, Math.Min(slabs, (long)n * g.OutHeight * g.OutWidth / ConvolutionWeightGradient.SlabPixels));
        // Threads beyond the slabs split each slab's dW columns: no sum changes, so this may follow the thread count.
        int tiles = ConvolutionWeightGradient.ColumnTiles(g);
        int parts = KernelThreads.InWorker ? 1 : Math.Clamp((KernelThreads.Count + slabs - 1) / slabs, 1, tiles);
        float[]? partial = slabs > 1 ? ArrayPool<float>.Shared.Rent((slabs - 1) * weightLength) : null;
        Conv2dGeometry geo = g;
        try
        {
            fixed (float* px = x, pdy = dy, pdw = dWeight, ppart = partial)
            {
                nint ix = (nint)px, idy = (nint)pdy, idw = (nint)pdw, ipart = (nint)ppart;
                Action<int, int> body = (s, e) =>
                {
                    for (int u = s; u < e; u++)
                    {
                        int slab = u / parts, part = u % parts;
                        int n0 = (int)((long)slab * n / slabs), n1 = (int)((long)(slab + 1) * n / slabs);
                        float* dst = slab == 0 ? (float*)idw : (float*)ipart + (long)(slab - 1) * weightLength;
                        BackwardWeightsImages(geo, n0, n1, (float*)ix, (float*)idy, dst, part * tiles / parts, (part + 1) * tiles / parts);
                    }
                };
                if (slabs * parts == 1) body(0, 1);
                else KernelThreads.For(slabs * parts, body);
            }
            for (int slab = 1; slab < slabs; slab++)
                TensorPrimitives.Add(dWeight.Slice(0, weightLength), partial.AsSpan((slab - 1) * weightLength, weightLength), dWeight.Slice(0, weightLength));
        }
        finally
        {
            if (partial is not null) ArrayPool<float>.Shared.Return(partial);
        }

        if (dBias.Length != 0)
        {
            // Threads split the channels; each channel's sum runs in image order, so any split gives the same bits.
            int k = g.OutChannels, plane = g.OutHeight * g.OutWidth;
            fixed (float* pdy = dy, pdb = dBias)
            {
                nint idy = (nint)pdy, idb = (nint)pdb;
                KernelThreads.For(k, (k0, k1) =>
                {
                    for (int kk = k0; kk < k1; kk++)
                    {
                        float sum = 0f;
                        for (int img = 0; img < n; img++) sum += TensorPrimitives.Sum(new ReadOnlySpan<float>((float*)idy + ((long)img * k + kk) * plane, plane));
                        ((float*)idb)[kk] = sum;
                    }
                });
            }
        }
    }

    /// <summary>True when the convolution is a plain matrix product at every pixel (1x1, stride 1, no padding).</summary>
    internal static bool IsPointwise(in Conv2dGeometry g) =>
        g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideHeight == 1 && g.StrideWidth == 1 && g.PadHeight == 0 && g.PadWidth == 0;

    /// <summary>Runs body over images: threaded over the batch when it has more than one image, else inline (GEMM threads).</summary>
    private static void OverImages(int n, Action<int, int> body)
    {
        if (n > 1) KernelThreads.For(n, body);
        else body(0, n);
    }

    /// <summary>
    /// Images per tile for forward and backward-data: small output planes (LeNet's conv2: 8x8) make thin
    /// products that lose to packing, so that many images go side by side in one column matrix (about 512
    /// columns, at most 8 images) and the weights are packed once per tile. 1 = image by image. (Backward-
    /// weights stays image by image: measured no faster tiled.)
    /// </summary>
    private static int TileImages(in Conv2dGeometry g)
    {
        if (!TilesEnabled) return 1;
        int ohw = g.OutHeight * g.OutWidth;
        if (g.Groups != 1 || IsPointwise(g) || g.Batch < 2 || ohw >= 256) return 1;
        return Math.Clamp((512 + ohw - 1) / ohw, 1, Math.Min(8, g.Batch));
    }

    /// <summary>
    /// Forward and backward-data go through <see cref="ConvolutionImplicitGemm"/> (no column matrix) unless
    /// the convolution is grouped or pointwise (a pointwise input already is the column matrix).
    /// </summary>
    private static bool UsesImplicitGemm(in Conv2dGeometry g) => ImplicitGemmEnabled && g.Groups == 1 && !IsPointwise(g);

    /// <summary>Whether forward may use the implicit-im2col path (tests and benchmarks compare both).</summary>
    internal static bool ImplicitGemmEnabled { get; set; } = true;

    /// <summary>Whether thin outputs go through the tiled path (tests and benchmarks compare both).</summary>
    internal static bool TilesEnabled { get; set; } = true;

    /// <summary>Tile i holds images [i*t, min(N, (i+1)*t)): fixed by the batch alone, never by the thread count.</summary>
    private static int Tiles(in Conv2dGeometry g, int t) => (g.Batch + t - 1) / t;

    // x: (N, C, H, W); weight: (K, C, KH, KW); bias: (K) or null; y: (N, K, OH, OW); tiles [s, e) of t images
    private static void ForwardTiles(Conv2dGeometry g, int t, int s, int e, float* x, float* weight, float* bias, int biasLength, float* y)
    {
        int c = g.InChannels, k = g.OutChannels, hw = g.InHeight * g.InWidth, ohw = g.OutHeight * g.OutWidth;
        int depth = c * g.KernelHeight * g.KernelWidth;
        float[] col = ArrayPool<float>.Shared.Rent(depth * t * ohw);
        float[] tmp = ArrayPool<float>.Shared.Rent(k * t * ohw);
        try
        {
            for (int tile = s; tile < e; tile++)
            {
                int n0 = tile * t, count = Math.Min(t, g.Batch - n0), ld = count * ohw;
                for (int i = 0; i < count; i++)
                    Im2Col.Unfold(g, c, new ReadOnlySpan<float>(x + (long)(n0 + i) * c * hw, c * hw), col.AsSpan(i * ohw, (depth - 1) * ld + ohw), ld);
                // tmp (K, count*ohw) = w (K, depth) * col (depth, count*ohw)
                Gemm.Sgemm(false, false, k, ld, depth, 1f, new ReadOnlySpan<float>(weight, k * depth), depth, col.AsSpan(0, depth * ld), ld, 0f, tmp.AsSpan(0, k * ld), ld);
                for (int i = 0; i < count; i++)
                {
                    for (int kk = 0; kk < k; kk++)
                    {
                        var src = tmp.AsSpan(kk * ld + i * ohw, ohw);
                        var dst = new Span<float>(y + ((long)(n0 + i) * k + kk) * ohw, ohw);
                        if (biasLength != 0) TensorPrimitives.Add(src, bias[kk], dst);
                        else src.CopyTo(dst);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(col);
            ArrayPool<float>.Shared.Return(tmp);
        }
    }

    // dy: (N, K, OH, OW) -> tile (K, count*OH*OW): image i's plane for channel kk at column i*OH*OW of row kk
    private static void GatherTile(in Conv2dGeometry g, float* dy, int n0, int count, Span<float> tile)
    {
        int k = g.OutChannels, ohw = g.OutHeight * g.OutWidth, ld = count * ohw;
        for (int i = 0; i < count; i++)
            for (int kk = 0; kk < k; kk++)
                new ReadOnlySpan<float>(dy + ((long)(n0 + i) * k + kk) * ohw, ohw).CopyTo(tile.Slice(kk * ld + i * ohw, ohw));
    }

    // dy: (N, K, OH, OW); weight: (K, C, KH, KW); dx: (N, C, H, W); tiles [s, e) of t images
    private static void BackwardDataTiles(Conv2dGeometry g, int t, int s, int e, float* dy, float* weight, float* dx)
    {
        int c = g.InChannels, k = g.OutChannels, hw = g.InHeight * g.InWidth, ohw = g.OutHeight * g.OutWidth;
        int depth = c * g.KernelHeight * g.KernelWidth;
        float[] col = ArrayPool<float>.Shared.Rent(depth * t * ohw);
        float[] tile = ArrayPool<float>.Shared.Rent(k * t * ohw);
        try
        {
            for (int ti = s; ti < e; ti++)
            {
                int n0 = ti * t, count = Math.Min(t, g.Batch - n0), ld = count * ohw;
                GatherTile(g, dy, n0, count, tile.AsSpan(0, k * ld));
                // col (depth, count*ohw) = w^T (depth, K) * dy_tile (K, count*ohw)
                Gemm.Sgemm(true, false, depth, ld, k, 1f, new ReadOnlySpan<float>(weight, k * depth), depth, tile.AsSpan(0, k * ld), ld, 0f, col.AsSpan(0, depth * ld), ld);
                for (int i = 0; i < count; i++)
                {
                    var dxi = new Span<float>(dx + (long)(n0 + i) * c * hw, c * hw);
                    dxi.Clear();
                    Im2Col.FoldAdd(g, c, col.AsSpan(i * ohw, (depth - 1) * ld + ohw), dxi, ld);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(col);
            ArrayPool<float>.Shared.Return(tile);
        }
    }

    private static int ColumnLength(in Conv2dGeometry g) =>
        IsPointwise(g) ? 0 : g.GroupInChannels * g.KernelHeight * g.KernelWidth * g.OutHeight * g.OutWidth;

    // x: (N, C, H, W); weight: (K, C/groups, KH, KW); bias: (K) or null; y: (N, K, OH, OW)
    private static void ForwardImages(Conv2dGeometry g, int n0, int n1, float* x, float* weight, float* bias, int biasLength, float* y)
    {
        int cg = g.GroupInChannels, kg = g.GroupOutChannels, hw = g.InHeight * g.InWidth, ohw = g.OutHeight * g.OutWidth;
        int depth = cg * g.KernelHeight * g.KernelWidth;
        bool pointwise = IsPointwise(g);
        int colLength = ColumnLength(g);
        float[]? col = colLength > 0 ? ArrayPool<float>.Shared.Rent(colLength) : null;
        try
        {
            for (int n = n0; n < n1; n++)
            {
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var xg = new ReadOnlySpan<float>(x + ((long)n * g.InChannels + grp * cg) * hw, cg * hw);
                    var wg = new ReadOnlySpan<float>(weight + (long)grp * kg * depth, kg * depth);
                    var yg = new Span<float>(y + ((long)n * g.OutChannels + grp * kg) * ohw, kg * ohw);
                    ReadOnlySpan<float> columns = xg;
                    if (!pointwise)
                    {
                        Im2Col.Unfold(g, cg, xg, col.AsSpan(0, colLength));
                        columns = col.AsSpan(0, colLength);
                    }
                    // y_g (kg, ohw) = w_g (kg, depth) * col (depth, ohw)
                    Gemm.Sgemm(false, false, kg, ohw, depth, 1f, wg, depth, columns, ohw, 0f, yg, ohw);
                }
                if (biasLength != 0)
                {
                    for (int kk = 0; kk < g.OutChannels; kk++)
                    {
                        var plane = new Span<float>(y + ((long)n * g.OutChannels + kk) * ohw, ohw);
                        TensorPrimitives.Add(plane, bias[kk], plane);
                    }
                }
            }
        }
        finally
        {
            if (col is not null) ArrayPool<float>.Shared.Return(col);
        }
    }

    // dy: (N, K, OH, OW); weight: (K, C/groups, KH, KW); dx: (N, C, H, W)
    private static void BackwardDataImages(Conv2dGeometry g, int n0, int n1, float* dy, float* weight, float* dx)
    {
        int cg = g.GroupInChannels, kg = g.GroupOutChannels, hw = g.InHeight * g.InWidth, ohw = g.OutHeight * g.OutWidth;
        int depth = cg * g.KernelHeight * g.KernelWidth;
        bool pointwise = IsPointwise(g);
        int colLength = ColumnLength(g);
        float[]? col = colLength > 0 ? ArrayPool<float>.Shared.Rent(colLength) : null;
        try
        {
            for (int n = n0; n < n1; n++)
            {
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var dyg = new ReadOnlySpan<float>(dy + ((long)n * g.OutChannels + grp * kg) * ohw, kg * ohw);
                    var wg = new ReadOnlySpan<float>(weight + (long)grp * kg * depth, kg * depth);
                    var dxg = new Span<float>(dx + ((long)n * g.InChannels + grp * cg) * hw, cg * hw);
                    if (pointwise)
                    {
                        // dx_g (cg, hw) = w_g^T (cg, kg) * dy_g (kg, hw)
                        Gemm.Sgemm(true, false, cg, hw, kg, 1f, wg, cg, dyg, hw, 0f, dxg, hw);
                        continue;
                    }
                    Span<float> columns = col.AsSpan(0, colLength);
                    // col (depth, ohw) = w_g^T (depth, kg) * dy_g (kg, ohw)
                    Gemm.Sgemm(true, false, depth, ohw, kg, 1f, wg, depth, dyg, ohw, 0f, columns, ohw);
                    dxg.Clear();
                    Im2Col.FoldAdd(g, cg, columns, dxg);
                }
            }
        }
        finally
        {
            if (col is not null) ArrayPool<float>.Shared.Return(col);
        }
    }

    // x: (N, C, H, W); dy: (N, K, OH, OW); dWeight: (K, C/groups, KH, KW): columns in tiles [t0, t1) of each group
    // overwritten with the sum over images [n0, n1)
    private static void BackwardWeightsImages(Conv2dGeometry g, int n0, int n1, float* x, float* dy, float* dWeight, int t0, int t1) =>
        // Dot products along whole chunks of pixels, not a GEMM per image (see ConvolutionWeightGradient).
        ConvolutionWeightGradient.Images(g, n0, n1, x, dy, dWeight, t0, t1);

    private static void CheckLength(string name, int actual, long expected, string shape)
    {
        if (actual != expected)
            throw new ArgumentException($"Convolution: {name} {shape} needs {expected} elements but has {actual}.", name);
    }
}
