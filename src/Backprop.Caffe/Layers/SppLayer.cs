using Backprop.Caffe.Proto;
using Backprop.Kernels;
using static Backprop.Caffe.Proto.SPPParameter.Types;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's SPP (spatial pyramid pooling): level l = 0 .. pyramid_height − 1 pools the whole bottom into 2^l × 2^l bins with
/// kernel = ceil(H / 2^l), stride = kernel, pad = (kernel·2^l − H + 1) / 2 (likewise W), output sizes rounded up as Caffe's Pooling;
/// each level is flattened to (N, C·bins) and the levels are concatenated along axis 1. With pyramid_height 1 the top is the single
/// level unflattened, (N, C, 1, 1), as in Caffe.
/// </summary>
public sealed class SppLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private readonly List<Level> levels = [];
    private PoolMethod method;

    private sealed record Level((int H, int W) Kernel, (int H, int W) Pad);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.SppParam ?? throw Error("spp_param is missing.");
        var x = bottoms[0];
        if (x.Rank != 4) throw Error($"expects a 4-D bottom (N, C, H, W), got {x}.");
        if (!p.HasPyramidHeight || p.PyramidHeight == 0) throw Error("pyramid_height must be set and positive.");
        // 2^(levels-1) bins per side must fit the bottom anyway; past 16 levels the bin count overflows before that matters.
        if (p.PyramidHeight > 16 || 1L << (int)(p.PyramidHeight - 1) > Math.Max(x[2], x[3]) * 2L)
            throw Error($"pyramid_height {p.PyramidHeight} asks for more bins than the bottom {x} has pixels.");
        method = p.Pool;
        levels.Clear();
        long features = 0;
        int last = 1, lastW = 1;
        for (int l = 0; l < p.PyramidHeight; l++)
        {
            int bins = 1 << l;
            int kh = (x[2] + bins - 1) / bins, kw = (x[3] + bins - 1) / bins;
            var level = new Level((kh, kw), ((kh * bins - x[2] + 1) / 2, (kw * bins - x[3] + 1) / 2));
            if (method == PoolMethod.Stochastic && (level.Pad.H != 0 || level.Pad.W != 0))
                throw Error($"level {l} needs pad {level.Pad.H}x{level.Pad.W} for bottom {x}, and STOCHASTIC pooling takes no pad.");
            if (level.Pad.H >= kh || level.Pad.W >= kw)
                throw Error($"level {l} ({bins}x{bins} bins) needs kernel {kh}x{kw} with pad {level.Pad.H}x{level.Pad.W} for bottom {x}; a pad must be smaller than the kernel.");
            last = Pool2dGeometry.OutputSize(x[2], kh, kh, level.Pad.H, ceilMode: true);
            lastW = Pool2dGeometry.OutputSize(x[3], kw, kw, level.Pad.W, ceilMode: true);
            if (last < 1 || lastW < 1) throw Error($"level {l} does not fit the bottom {x}.");
            features += (long)x[1] * last * lastW;
            levels.Add(level);
        }
        if (levels.Count == 1) return [new Shape(x[0], x[1], last, lastW)];
        if (features * x[0] > Array.MaxLength) throw Error($"the top ({x[0]}, {features}) would have more elements than an array can hold.");
        return [new Shape(x[0], (int)features)];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var x = bottoms[0];
        var generator = method == PoolMethod.Stochastic && context.IsTraining ? context.RandomFor(layerIndex) : null;
        var pooled = levels.Select(l => Pool(x, l, generator)).ToList();
        if (pooled.Count == 1) return [pooled[0]];
        return [Tensor.Concat(pooled.Select(t => t.Flatten(1)).ToList(), axis: 1)];
    }

    private Tensor Pool(Tensor x, Level l, Generator? generator) => method switch
    {
        PoolMethod.Max => Functional.MaxPool2d(x, l.Kernel, l.Kernel, l.Pad, ceilMode: true),
        PoolMethod.Ave => Functional.AvgPool2d(x, l.Kernel, l.Kernel, l.Pad, ceilMode: true, countIncludePad: true),
        _ => Functional.StochasticPool2d(x, l.Kernel, l.Kernel, generator, ceilMode: true),
    };
}
