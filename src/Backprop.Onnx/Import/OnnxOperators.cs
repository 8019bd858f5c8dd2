namespace Backprop.Onnx.Import;

/// <summary>
/// The operators the importer knows, each compiled once from its node into an <see cref="OnnxKernel"/> built from core
/// ops (so autograd gives the backward pass). Window operators live in <see cref="OnnxConvOperators"/>.
/// </summary>
internal static class OnnxOperators
{
    public static readonly IReadOnlyDictionary<string, Func<OnnxNodeContext, OnnxKernel>> All = new Dictionary<string, Func<OnnxNodeContext, OnnxKernel>>
    {
        ["Conv"] = c => OnnxConvOperators.Conv(c).Kernel,
        ["ConvTranspose"] = OnnxConvOperators.ConvTranspose,
        ["MaxPool"] = OnnxConvOperators.MaxPool,
        ["AveragePool"] = OnnxConvOperators.AveragePool,
        ["GlobalAveragePool"] = OnnxConvOperators.GlobalAveragePool,
        ["Gemm"] = Gemm,
        ["MatMul"] = c => c.Named((x, _) => MatMul(x[0]!, x[1]!)),
        ["Add"] = c => c.Named((x, _) => x[0]! + x[1]!),
        ["Sub"] = c => c.Named((x, _) => x[0]! - x[1]!),
        ["Mul"] = c => c.Named((x, _) => x[0]! * x[1]!),
        ["Div"] = c => c.Named((x, _) => x[0]! / x[1]!),
        ["Relu"] = c => (x, _) => Functional.Relu(x[0]!),
        ["LeakyRelu"] = c => { float alpha = c.Float("alpha", 0.01f); return (x, _) => Functional.LeakyRelu(x[0]!, alpha); },
        ["Sigmoid"] = c => (x, _) => Functional.Sigmoid(x[0]!),
        ["Tanh"] = c => (x, _) => Functional.Tanh(x[0]!),
        ["Softmax"] = c => Softmax(c, log: false),
        ["LogSoftmax"] = c => Softmax(c, log: true),
        ["BatchNormalization"] = BatchNormalization,
        ["Flatten"] = Flatten,
        ["Reshape"] = Reshape,
        ["Transpose"] = c => { var perm = c.Ints("perm"); return c.Named((x, _) => x[0]!.Permute(perm is null ? [.. Enumerable.Range(0, x[0]!.Rank).Reverse()] : [.. perm.Select(p => (int)p)])); },
        ["Concat"] = c => { int axis = c.ToInt(c.Int("axis", 1), "axis"); return c.Named((x, _) => Tensor.Concat([.. x.Select(t => t!)], axis)); },
        ["Dropout"] = Dropout,
        ["Identity"] = c => (x, _) => x[0]!,
        ["Pad"] = Pad,
        ["Clip"] = Clip,
        ["Gather"] = OnnxIndexingOperators.Gather,
        ["Unsqueeze"] = OnnxIndexingOperators.Unsqueeze,
        ["Squeeze"] = OnnxIndexingOperators.Squeeze,
        ["Slice"] = OnnxIndexingOperators.Slice,
        ["Cast"] = OnnxIndexingOperators.Cast,
        ["ConstantOfShape"] = OnnxIndexingOperators.ConstantOfShape,
    };

    /// <summary>Gemm: alpha·A'·B' + beta·C (A' = Aᵀ when transA, B' likewise); the usual Linear layer runs as one core op.</summary>
    private static OnnxKernel Gemm(OnnxNodeContext c)
    {
        float alpha = c.Float("alpha", 1f), beta = c.Float("beta", 1f);
        bool transA = c.Int("transA", 0) != 0, transB = c.Int("transB", 0) != 0;
        return c.Named((x, _) =>
        {
            Tensor a = x[0]!, b = x[1]!;
            var bias = x.Length > 2 ? x[2] : null;
            if (!transA && transB && alpha == 1f && beta == 1f && (bias is null || bias.Rank == 1))
                return Functional.Linear(a, b, bias);
            var y = (transA ? a.Transpose(0, 1) : a).MatMul(transB ? b.Transpose(0, 1) : b);
            if (alpha != 1f) y *= alpha;
            return bias is null ? y : y + (beta == 1f ? bias : bias * beta);
        });
    }

    /// <summary>numpy matmul: a 1-D operand gains a dimension that is removed again afterwards.</summary>
    private static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Rank == 1) return MatMul(a.Unsqueeze(0), b).Squeeze(-2);
        if (b.Rank == 1) return a.MatMul(b.Unsqueeze(1)).Squeeze(-1);
        return a.MatMul(b);
    }

    /// <summary>Opset 13 and later: along one axis (default −1). Before 13: over the input flattened to 2-D at axis (default 1).</summary>
    private static OnnxKernel Softmax(OnnxNodeContext c, bool log)
    {
        bool flattens = c.Opset < 13;
        int axis = c.ToInt(c.Int("axis", flattens ? 1 : -1), "axis");
        return c.Named((x, _) =>
        {
            var input = x[0]!;
            if (!flattens) return log ? Functional.LogSoftmax(input, axis) : Functional.Softmax(input, axis);
            var flat = input.Reshape(FlattenDims(input, axis));
            return (log ? Functional.LogSoftmax(flat, 1) : Functional.Softmax(flat, 1)).Reshape(input.Shape.ToArray());
        });
    }

    private static OnnxKernel Flatten(OnnxNodeContext c)
    {
        int axis = c.ToInt(c.Int("axis", 1), "axis");
        return c.Named((x, _) => x[0]!.Reshape(FlattenDims(x[0]!, axis)));
    }

    /// <summary>[product of the dimensions before axis, product of the rest] (axis may be negative, 0 or rank).</summary>
    private static int[] FlattenDims(Tensor x, int axis)
    {
        if (axis < 0) axis += x.Rank;
        if (axis < 0 || axis > x.Rank) throw new ArgumentException($"axis {axis} is outside a tensor of rank {x.Rank}.");
        int outer = 1;
        for (int i = 0; i < axis; i++) outer *= x.Shape[i];
        return [outer, x.Length / Math.Max(outer, 1)];
    }

    /// <summary>A BatchNormalization node's epsilon (ONNX's default 1e-5).</summary>
    public static float BatchNormEpsilon(OnnxNodeContext c) => c.Float("epsilon", 1e-5f);

    private static OnnxKernel BatchNormalization(OnnxNodeContext c)
    {
        float eps = BatchNormEpsilon(c), momentum = c.Float("momentum", 0.9f);
        if (c.Int("spatial", 1) == 0) throw c.Error("spatial=0 (per-activation statistics) is not supported.");
        if (c.Int("training_mode", 0) != 0) throw c.Error("training_mode=1 is not supported; export the model in eval mode.");
        c.SingleOutput("running-statistics");
        // ONNX keeps momentum of the old statistic; core (as PyTorch) takes the share of the new batch.
        return c.Named((x, training) => Functional.BatchNorm(x[0]!, x[3]!, x[4]!, x[1], x[2], training, 1f - momentum, eps));
    }

    // The target shape is known at import or computed by the graph's shape arithmetic on each pass (a dynamic batch).
    private static OnnxKernel Reshape(OnnxNodeContext c)
    {
        if (c.KnownInput(1) is { } known && known.Longs is null) throw c.Error("its shape is not an integer tensor.");
        var shape = OnnxShapeRules.IntegerArgument(c, 1, "", 0, "shape");
        bool allowZero = c.Int("allowzero", 0) != 0;
        return c.Named((x, _) => x[0]!.Reshape(OnnxShapeRules.Reshape(x[0]!.Shape.ToArray(), shape(x)!, allowZero)));
    }

    /// <summary>Dropout drops while the imported module is in training mode (for fine-tuning) and is the identity in eval mode.</summary>
    private static OnnxKernel Dropout(OnnxNodeContext c)
    {
        c.SingleOutput("mask");
        float ratio = c.Opset < 12 ? c.Float("ratio", 0.5f) : c.ConstantInput(1, "ratio")?.ToTensor().Item() ?? 0.5f;
        if (ratio is < 0f or >= 1f) throw c.Error($"ratio {ratio} must be in [0, 1).");
        return (x, training) => Functional.Dropout(x[0]!, ratio, training);
    }

    /// <summary>Constant-mode Pad (opset 11+: pads, constant_value and axes as constant inputs; before: attributes).</summary>
    private static OnnxKernel Pad(OnnxNodeContext c)
    {
        string mode = c.String("mode", "constant");
        if (mode != "constant") throw c.Error($"mode '{mode}' is not supported; only constant padding is.");
        long[] pads;
        float value;
        long[]? axes = null;
        if (c.Opset < 11)
        {
            pads = c.Ints("pads") ?? throw c.Error("it has no pads.");
            value = c.Float("value", 0f);
        }
        else
        {
            pads = (c.ConstantInput(1, "pads") ?? throw c.Error("it has no pads input.")).Longs ?? throw c.Error("its pads are not integers.");
            value = c.ConstantInput(2, "constant_value")?.ToTensor().Item() ?? 0f;
            axes = c.ConstantInput(3, "axes")?.Longs;
        }
        return c.Named((x, _) =>
        {
            var input = x[0]!;
            var axisList = axes?.Select(a => (int)(a < 0 ? a + input.Rank : a)).ToArray() ?? [.. Enumerable.Range(0, input.Rank)];
            if (pads.Length != 2 * axisList.Length) throw new ArgumentException($"{pads.Length} pads do not fit {axisList.Length} axes of {input.Shape}.");
            int[] begins = new int[input.Rank], ends = new int[input.Rank];
            for (int i = 0; i < axisList.Length; i++)
            {
                begins[axisList[i]] = checked((int)pads[i]);
                ends[axisList[i]] = checked((int)pads[i + axisList.Length]);
            }
            return OnnxPadding.Pad(input, begins, ends, value);
        });
    }

    /// <summary>Clip to [min, max]: attributes before opset 11, optional constant inputs after.</summary>
    private static OnnxKernel Clip(OnnxNodeContext c)
    {
        float min = c.Opset < 11 ? c.Float("min", float.NegativeInfinity) : c.ConstantInput(1, "min")?.ToTensor().Item() ?? float.NegativeInfinity;
        float max = c.Opset < 11 ? c.Float("max", float.PositiveInfinity) : c.ConstantInput(2, "max")?.ToTensor().Item() ?? float.PositiveInfinity;
        return (x, _) => x[0]!.Clamp(min, max);
    }
}
