using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Tests.Caffe.Net;

public class NetBuilderTests
{
    // Caffe's LeNet with an Input layer in place of the LMDB data layers.
    internal const string LeNetWithInput = """
        name: "LeNet"
        layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 4 dim: 1 dim: 28 dim: 28 } shape { dim: 4 } } }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" param { lr_mult: 1 } param { lr_mult: 2 }
          convolution_param { num_output: 20 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" param { lr_mult: 1 } param { lr_mult: 2 }
          convolution_param { num_output: 50 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1" param { lr_mult: 1 } param { lr_mult: 2 }
          inner_product_param { num_output: 500 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
        layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" param { lr_mult: 1 } param { lr_mult: 2 }
          inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "accuracy" type: "Accuracy" bottom: "ip2" bottom: "label" top: "accuracy" include { phase: TEST } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
        """;

    internal static CaffeNet Build(string prototxt, Phase phase = Phase.Train, ulong seed = 1) =>
        CaffeNet.Build(Prototxt.Parse<NetParameter>(prototxt, "test.prototxt"), new NetState { Phase = phase }, new Generator(seed), new NetContext(phase, seed));

    [Fact]
    public void LeNetShapesAreInferredBeforeAnyDataFlows()
    {
        var net = Build(LeNetWithInput);
        Assert.Equal(new Shape(4, 20, 24, 24), net.BlobShapes["conv1"]);
        Assert.Equal(new Shape(4, 20, 12, 12), net.BlobShapes["pool1"]);
        Assert.Equal(new Shape(4, 50, 8, 8), net.BlobShapes["conv2"]);
        Assert.Equal(new Shape(4, 50, 4, 4), net.BlobShapes["pool2"]);
        Assert.Equal(new Shape(4, 500), net.BlobShapes["ip1"]);
        Assert.Equal(new Shape(4, 10), net.BlobShapes["ip2"]);
        // 520 + 25050 + 400500 + 5010 parameters, as Caffe's LeNet has.
        Assert.Equal(431080, net.Parameters.Sum(p => p.Length));
        Assert.Equal(["loss"], net.OutputNames);
        Assert.Equal(2f, net.Layers.Single(l => l.Name == "conv1").Blobs[1].LearningRateMultiplier);
        var test = Build(LeNetWithInput, Phase.Test);
        Assert.Equal(["accuracy", "loss"], test.OutputNames);
    }

    [Fact]
    public void XavierFillsConvolutionWeightsWithinTheFanInBound()
    {
        var net = Build(LeNetWithInput);
        var w = net.Layers.Single(l => l.Name == "conv2").Blobs[0].ToArray();
        float bound = MathF.Sqrt(3f / (20 * 5 * 5));
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.True(w.Max() > bound * 0.9f);
        Assert.All(net.Layers.Single(l => l.Name == "conv2").Blobs[1].ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ForwardGivesLossAndAccuracyAndBackwardReachesEveryWeight()
    {
        var net = Build(LeNetWithInput, Phase.Test);
        var context = new NetContext(Phase.Test);
        context.Inputs["data"] = Tensor.Rand(new Generator(3), 4, 1, 28, 28);
        context.Inputs["label"] = Tensor.FromArray([1, 2, 3, 4], 4);
        var result = net.Forward(context);
        float loss = result.Loss!.Item();
        Assert.InRange(loss, 1.5f, 3.5f);   // about ln 10 for an untrained net
        Assert.Equal(loss, result.Outputs.Single(o => o.Name == "loss").Value.Item());
        Assert.Equal(0f, result.Outputs.Single(o => o.Name == "accuracy").LossWeight);
        result.Loss.Backward();
        Assert.All(net.Parameters, p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void UnknownBottomBlobNamesTheLayerAndTheBlob()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
            layer { name: "fc" type: "InnerProduct" bottom: "dta" top: "fc" inner_product_param { num_output: 2 } }
            """));
        Assert.Contains("'fc'", e.Message);
        Assert.Contains("'dta'", e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesTheLayerAndShapes()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build("""
            layer { name: "a" type: "Input" top: "a" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "b" type: "Input" top: "b" input_param { shape { dim: 2 dim: 4 } } }
            layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" top: "sum" }
            """));
        Assert.Contains("'sum'", e.Message);
        Assert.Contains("(2, 3)", e.Message);
        Assert.Contains("(2, 4)", e.Message);
        var conv = Assert.Throws<CaffeNetException>(() => Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 4 dim: 4 } } }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 5 } }
            """));
        Assert.Contains("'conv'", conv.Message);
    }

    [Fact]
    public void UnknownLayerTypeNamesTheLayerAndType()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
            layer { name: "odd" type: "Frobnicate" bottom: "data" top: "odd" }
            """));
        Assert.Contains("'odd'", e.Message);
        Assert.Contains("'Frobnicate'", e.Message);
    }

    [Fact]
    public void PhaseRulesPickLayers()
    {
        const string text = """
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "only_train" type: "ReLU" bottom: "data" top: "r" include { phase: TRAIN } }
            layer { name: "not_train" type: "Sigmoid" bottom: "data" top: "s" exclude { phase: TRAIN } }
            """;
        Assert.Equal(["data", "only_train"], Build(text).Layers.Select(l => l.Name));
        Assert.Equal(["data", "not_train"], Build(text, Phase.Test).Layers.Select(l => l.Name));
    }

    [Fact]
    public void LossWeightAndPropagateDownAreHonoured()
    {
        var net = Build("""
            layer { name: "x" type: "Input" top: "x" top: "y" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "fc" type: "InnerProduct" bottom: "x" top: "fc" inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
            layer { name: "l2" type: "EuclideanLoss" bottom: "fc" bottom: "y" top: "l2" loss_weight: 3 propagate_down: true propagate_down: false }
            """);
        var context = new NetContext(Phase.Train);
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var y = Tensor.FromArray([0, 1, 0, 1, 0, 1], 2, 3);
        y.RequiresGrad = true;
        context.Inputs["x"] = x;
        context.Inputs["y"] = y;
        var result = net.Forward(context);
        var fc = result.Blobs["fc"];
        double expected = 0;
        for (int i = 0; i < 6; i++) expected += Math.Pow(fc.AsSpan()[i] - y.AsSpan()[i], 2);
        Assert.Equal(3 * expected / 4, result.Loss!.Item(), 4);
        result.Loss.Backward();
        Assert.Null(y.Grad);   // propagate_down: false stops the gradient to the second bottom
    }

    [Fact]
    public void NamedParamsAreSharedBetweenLayers()
    {
        var net = Build("""
            layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "a" type: "InnerProduct" bottom: "x" top: "a" param { name: "w" } inner_product_param { num_output: 3 bias_term: false } }
            layer { name: "b" type: "InnerProduct" bottom: "a" top: "b" param { name: "w" } inner_product_param { num_output: 3 bias_term: false } }
            """);
        Assert.Same(net.Layers[1].Blobs[0], net.Layers[2].Blobs[0]);
        Assert.Single(net.Parameters);
    }

    [Fact]
    public void LayersComputeWhatCaffeDefines()
    {
        var net = Build("""
            layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 2 dim: 2 } } }
            layer { name: "scale" type: "Scale" bottom: "x" top: "scaled" scale_param { bias_term: true filler { type: "constant" value: 2 } bias_filler { type: "constant" value: 1 } } }
            layer { name: "max" type: "Eltwise" bottom: "x" bottom: "scaled" top: "max" eltwise_param { operation: MAX } }
            layer { name: "cat" type: "Concat" bottom: "x" bottom: "max" top: "cat" }
            layer { name: "flat" type: "Flatten" bottom: "cat" top: "flat" }
            layer { name: "shape" type: "Reshape" bottom: "flat" top: "shape" reshape_param { shape { dim: 0 dim: -1 dim: 4 } } }
            layer { name: "rows" type: "Reshape" bottom: "flat" top: "rows" reshape_param { shape { dim: -1 dim: 8 } } }
            """);
        var context = new NetContext(Phase.Test);
        context.Inputs["x"] = Tensor.FromArray([1, -2, 3, -4, 5, -6, 7, -8], 1, 2, 2, 2);
        var blobs = net.Forward(context).Blobs;
        Assert.Equal(new float[] { 3, -3, 7, -7, 11, -11, 15, -15 }, blobs["scaled"].ToArray());
        Assert.Equal(new float[] { 3, -2, 7, -4, 11, -6, 15, -8 }, blobs["max"].ToArray());
        Assert.Equal(new Shape(1, 4, 2, 2), blobs["cat"].Shape);
        Assert.Equal(new Shape(1, 16), blobs["flat"].Shape);
        Assert.Equal(new Shape(1, 4, 4), blobs["shape"].Shape);
        Assert.Equal(new Shape(2, 8), blobs["rows"].Shape);   // a reshape may change the first axis too
    }

    [Fact]
    public void LrnAcrossChannelsMatchesTheFormula()
    {
        var net = Build("""
            layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 4 dim: 1 dim: 2 } } }
            layer { name: "norm" type: "LRN" bottom: "x" top: "norm" lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 k: 2 } }
            """);
        var x = new float[] { 1, 2, 3, 4, 5, 6, 7, 8 };   // (1, 4, 1, 2)
        var context = new NetContext(Phase.Test);
        context.Inputs["x"] = Tensor.FromArray(x, 1, 4, 1, 2);
        var y = net.Forward(context).Blobs["norm"].ToArray();
        for (int c = 0; c < 4; c++)
            for (int p = 0; p < 2; p++)
            {
                double sum = 0;
                for (int k = Math.Max(0, c - 1); k <= Math.Min(3, c + 1); k++) sum += x[k * 2 + p] * x[k * 2 + p];
                double expected = x[c * 2 + p] / Math.Pow(2 + 0.5 / 3 * sum, 0.75);
                Assert.Equal(expected, y[c * 2 + p], 5);
            }
    }

    [Fact]
    public void BatchNormAccumulatesCaffeStatistics()
    {
        var net = Build("""
            layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 2 dim: 1 dim: 1 dim: 2 } } }
            layer { name: "bn" type: "BatchNorm" bottom: "x" top: "bn" batch_norm_param { moving_average_fraction: 0.5 } }
            """);
        var context = new NetContext(Phase.Train);
        context.Inputs["x"] = Tensor.FromArray([1, 2, 3, 6], 2, 1, 1, 2);
        var y = net.Forward(context).Blobs["bn"].ToArray();
        // mean 3, biased variance 3.5, unbiased 14/3.
        for (int i = 0; i < 4; i++) Assert.Equal((new[] { 1f, 2, 3, 6 }[i] - 3) / MathF.Sqrt(3.5f + 1e-5f), y[i], 4);
        var blobs = net.Layers[1].Blobs;
        Assert.Equal(3f, blobs[0].Item(), 5);
        Assert.Equal(14f / 3, blobs[1].Item(), 4);
        Assert.Equal(1f, blobs[2].Item());
        Assert.All(blobs, b => Assert.False(b.RequiresGrad));
    }
}
