using Backprop.Caffe;
using Backprop.Caffe.Proto;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// The ONNX nodes for each Caffe layer type, as the layer computes in the TEST phase. Element-wise and structural layers
/// are here; convolution and inner product, pooling, and the normalization/scale layers have files of their own.
/// </summary>
internal static class CaffeLayerExport
{
    /// <summary>The layer types <see cref="Export"/> writes (data, loss and accuracy layers are handled by the net walk).</summary>
    public static readonly IReadOnlyList<string> SupportedTypes =
    [
        "AbsVal", "ArgMax", "BatchNorm", "Bias", "BNLL", "Clip", "Concat", "Convolution", "Crop", "Deconvolution", "Dropout", "ELU",
        "Eltwise", "Exp", "Flatten", "InnerProduct", "Log", "LRN", "MVN", "Parameter", "Pooling", "Power", "PReLU", "ReLU", "Reshape",
        "Scale", "Sigmoid", "Slice", "Softmax", "Split", "Swish", "TanH", "Threshold",
    ];

    /// <summary>The layer's tops, one value per top blob.</summary>
    public static IReadOnlyList<OnnxValue> Export(CaffeLayerContext c)
    {
        var d = c.Layer.Definition;
        return d.Type switch
        {
            "Convolution" => [CaffeConvolutionExport.Convolution(c)],
            "Deconvolution" => [CaffeConvolutionExport.Deconvolution(c)],
            "InnerProduct" => [CaffeConvolutionExport.InnerProduct(c)],
            "Pooling" => [CaffePoolingExport.Pooling(c)],
            "LRN" => [CaffeNormalizationExport.Lrn(c)],
            "BatchNorm" => [CaffeNormalizationExport.BatchNorm(c, null)],
            "Scale" => [CaffeNormalizationExport.ScaleOrBias(c, scale: true)],
            "Bias" => [CaffeNormalizationExport.ScaleOrBias(c, scale: false)],
            "PReLU" => [CaffeNormalizationExport.Prelu(c)],
            "ReLU" => [(d.ReluParam?.NegativeSlope ?? 0) == 0 ? c.Unary("Relu", c.X) : c.Unary("LeakyRelu", c.X, "", Float("alpha", d.ReluParam!.NegativeSlope))],
            "Sigmoid" => [c.Unary("Sigmoid", c.X)],
            "TanH" => [c.Unary("Tanh", c.X)],
            "AbsVal" => [c.Unary("Abs", c.X)],
            "BNLL" => [c.Unary("Softplus", c.X)],
            "ELU" => [c.Unary("Elu", c.X, "", Float("alpha", (d.EluParam ?? new ELUParameter()).Alpha))],
            "Swish" => [Swish(c)],
            "Clip" => [c.Node("Clip", "", [c.X.Name, c.Constant("min", d.ClipParam.Min), c.Constant("max", d.ClipParam.Max)], c.X.SampleShape)],
            "Softmax" => [c.Unary("Softmax", c.X, "", Int("axis", c.Axis((d.SoftmaxParam ?? new SoftmaxParameter()).Axis, c.X, "axis")))],
            "Dropout" => [Dropout(c)],
            "Split" => Enumerable.Repeat(c.X, d.Top.Count).ToArray(),
            "Concat" => [Concat(c)],
            "Eltwise" => [Eltwise(c)],
            "Flatten" or "Reshape" => [Reshape(c)],
            "Power" => [Power(c)],
            "Exp" => [Exp(c)],
            "Log" => [Log(c)],
            "Threshold" => [Threshold(c)],
            "Parameter" => [Parameter(c)],
            "MVN" => [CaffeNormalizationExport.Mvn(c)],
            "Slice" => CaffeSelectionExport.Slice(c),
            "Crop" => [CaffeSelectionExport.Crop(c)],
            "ArgMax" => [CaffeSelectionExport.ArgMax(c)],
            _ => throw c.Unsupported($"there is no ONNX export for Caffe's {d.Type} layer. Exported types: {string.Join(", ", SupportedTypes)} " +
                "(data and Input layers become graph inputs; loss, Accuracy and Silence layers are left out)."),
        };
    }

    // caffe-fast-rcnn's scale_train: false scales by (1 − ratio) at test time; otherwise Dropout is the identity in TEST.
    private static OnnxValue Dropout(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.DropoutParam ?? new DropoutParameter();
        return p.ScaleTrain || p.DropoutRatio == 0 ? c.X : c.WithConstant("Mul", c.X, 1 - p.DropoutRatio, "keep");
    }

    // y = 1 where x > threshold, else 0, as floats.
    private static OnnxValue Threshold(CaffeLayerContext c)
    {
        float threshold = (c.Layer.Definition.ThresholdParam ?? new ThresholdParameter()).Threshold;
        var above = c.Node("Greater", "above", [c.X.Name, c.Constant("threshold", threshold)], c.X.SampleShape);
        return c.Node("Cast", "", [above.Name], c.X.SampleShape, Int("to", (int)Proto.TensorProto.Types.DataType.Float));
    }

    // The layer's top is its blob: an initializer named after the layer, of the blob's whole shape (its first axis is
    // fixed, so it meets batch-sized blobs only at the exported batch size, or by broadcasting where it is 1).
    private static OnnxValue Parameter(CaffeLayerContext c)
    {
        var blob = c.Layer.Blobs[0];
        if (blob.Shape.Rank == 0) throw c.Unsupported("its blob is a scalar; an exported top needs a first (batch) axis.");
        return new OnnxValue(c.Initializer("", blob), blob.Shape.ToArray()[1..]);
    }

    private static OnnxValue Swish(CaffeLayerContext c)
    {
        float beta = (c.Layer.Definition.SwishParam ?? new SwishParameter()).Beta;
        var scaled = beta == 1 ? c.X : c.WithConstant("Mul", c.X, beta, "beta", "scaled");
        var gate = c.Unary("Sigmoid", scaled, "sigmoid");
        return c.Node("Mul", "", [c.X.Name, gate.Name], c.X.SampleShape);
    }

    private static OnnxValue Concat(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.ConcatParam ?? new ConcatParameter();
        int axis = c.Axis(p.HasConcatDim && !p.HasAxis ? (int)p.ConcatDim : p.Axis, c.X, "axis");
        int[] shape = (int[])c.X.SampleShape.Clone();
        foreach (var b in c.Bottoms.Skip(1))
        {
            if (b.SampleShape.Length != shape.Length)
                throw c.Unsupported($"bottoms {CaffeLayerContext.Describe(c.X)} and {CaffeLayerContext.Describe(b)} differ in rank.");
            shape[axis - 1] += b.SampleShape[axis - 1];
        }
        return c.Node("Concat", "", c.Bottoms.Select(b => b.Name).ToArray(), shape, Int("axis", axis));
    }

    // SUM with coeff: each bottom times its coefficient, then Sum; PROD a chain of Mul; MAX one Max node.
    private static OnnxValue Eltwise(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.EltwiseParam ?? new EltwiseParameter();
        foreach (var b in c.Bottoms)
            if (!b.SampleShape.AsSpan().SequenceEqual(c.X.SampleShape))
                throw c.Unsupported($"bottoms {CaffeLayerContext.Describe(c.X)} and {CaffeLayerContext.Describe(b)} differ in shape.");
        switch (p.Operation)
        {
            case EltwiseParameter.Types.EltwiseOp.Max:
                return c.Node("Max", "", c.Bottoms.Select(b => b.Name).ToArray(), c.X.SampleShape);
            case EltwiseParameter.Types.EltwiseOp.Prod:
                var product = c.X;
                for (int i = 1; i < c.Bottoms.Count; i++)
                    product = c.Node("Mul", i == c.Bottoms.Count - 1 ? "" : $"mul{i}", [product.Name, c.Bottoms[i].Name], c.X.SampleShape);
                return product;
            default:
                var terms = c.Bottoms.Select((b, i) => p.Coeff.Count == 0 || p.Coeff[i] == 1 ? b.Name
                    : c.WithConstant("Mul", b, p.Coeff[i], $"coeff{i}", $"term{i}").Name).ToArray();
                return c.Node("Sum", "", terms, c.X.SampleShape);
        }
    }

    // Flatten and Reshape: the layer's own shape rule, run on two batch sizes, says which output axis is the batch.
    private static OnnxValue Reshape(CaffeLayerContext c)
    {
        int[] Probe(int batch)
        {
            var fresh = LayerFactory.Create(c.Layer.Definition);
            try
            {
                return fresh.Setup([new Shape([batch, .. c.X.SampleShape])], new NetContext(Phase.Test), new Generator(0))[0].ToArray();
            }
            catch (Exception e) when (e is CaffeNetException or ArgumentException)
            {
                throw c.Unsupported($"its shape does not hold for a batch of {batch}: {e.Message}");
            }
        }
        int[] two = Probe(2), three = Probe(3);
        if (two.Length == 0 || two[0] != 2 || three[0] != 3 || !two.AsSpan(1).SequenceEqual(three.AsSpan(1)))
            throw c.Unsupported($"its top ({string.Join(", ", two)} for a batch of 2) mixes the batch axis with others; the exported batch size is dynamic.");
        int[] sample = two[1..];
        if (c.Layer.Type == "Flatten" && sample.Length == 1)
            return c.Unary("Flatten", c.X, "", Int("axis", 1));
        string shape = c.Int64s("shape", [0, .. sample.Select(v => (long)v)]);
        return c.Node("Reshape", "", [c.X.Name, shape], sample);
    }

    // y = (shift + scale·x)^power; power 0 or scale 0 give a constant, as Caffe's layer does.
    private static OnnxValue Power(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.PowerParam ?? new PowerParameter();
        if (p.Power == 0 || p.Scale == 0)
        {
            var zero = c.WithConstant("Mul", c.X, 0, "zero", "zeros");
            return c.WithConstant("Add", zero, p.Power == 0 ? 1 : MathF.Pow(p.Shift, p.Power), "value");
        }
        var y = c.X;
        if (p.Scale != 1) y = c.WithConstant("Mul", y, p.Scale, "scale", p.Shift == 0 && p.Power == 1 ? "" : "scaled");
        if (p.Shift != 0) y = c.WithConstant("Add", y, p.Shift, "shift", p.Power == 1 ? "" : "shifted");
        if (p.Power != 1) y = c.WithConstant("Pow", y, p.Power, "power");
        return y;
    }

    // base^(shift + scale·x) = base^shift · e^(ln(base)·scale·x), as the layer computes it.
    private static OnnxValue Exp(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.ExpParam ?? new ExpParameter();
        double logBase = p.Base == -1 ? 1 : Math.Log(p.Base);
        float inner = (float)(logBase * p.Scale), outer = p.Shift == 0 ? 1 : (float)Math.Exp(logBase * p.Shift);
        var y = inner == 1 ? c.X : c.WithConstant("Mul", c.X, inner, "scale", "scaled");
        y = c.Unary("Exp", y, outer == 1 ? "" : "exp");
        return outer == 1 ? y : c.WithConstant("Mul", y, outer, "base_shift");
    }

    // log_base(shift + scale·x) = ln(shift + scale·x) / ln(base).
    private static OnnxValue Log(CaffeLayerContext c)
    {
        var p = c.Layer.Definition.LogParam ?? new LogParameter();
        float baseScale = p.Base == -1 ? 1 : (float)(1 / Math.Log(p.Base));
        var y = p.Scale == 1 ? c.X : c.WithConstant("Mul", c.X, p.Scale, "scale", "scaled");
        if (p.Shift != 0) y = c.WithConstant("Add", y, p.Shift, "shift", "shifted");
        y = c.Unary("Log", y, baseScale == 1 ? "" : "log");
        return baseScale == 1 ? y : c.WithConstant("Mul", y, baseScale, "base");
    }
}
