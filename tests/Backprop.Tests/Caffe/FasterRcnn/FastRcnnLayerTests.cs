using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Tests.Caffe.Net;
using Xunit.Abstractions;

namespace Backprop.Tests.Caffe.FasterRcnn;

/// <summary>caffe-fast-rcnn's ROIPooling and SmoothL1Loss layers.</summary>
public class FastRcnnLayerTests(ITestOutputHelper output)
{
    private const string RoiNet = """
        layer { name: "in" type: "Input" top: "features" top: "rois" input_param { shape { dim: 1 dim: 2 dim: 4 dim: 5 } shape { dim: 2 dim: 5 } } }
        layer { name: "pool" type: "ROIPooling" bottom: "features" bottom: "rois" top: "pooled"
          roi_pooling_param { pooled_h: 2 pooled_w: 2 spatial_scale: 0.5 } }
        """;

    [Fact]
    public void RoiPoolingRoundsCornersAndTakesBinMaxima()
    {
        var net = NetBuilderTests.Build(RoiNet, Phase.Test);
        Assert.Equal(new Shape(2, 2, 2, 2), net.BlobShapes["pooled"]);
        var features = Tensor.FromArray(Enumerable.Range(0, 40).Select(i => (float)i).ToArray(), 1, 2, 4, 5);
        // RoI 0: corners round(1·0.5)=1 (half away from zero), round(1·0.5)=1, round(5·0.5)=3, round(5·0.5)=3 → cells 1..3 (3×3),
        // bins of 1.5: rows [1, 3) and [2, 4) clipped to 4 (likewise columns). RoI 1 lies beyond the map: empty bins give 0.
        var rois = Tensor.FromArray([0, 1, 1, 5, 5, 0, 40, 40, 50, 50], 2, 5);
        var context = new NetContext(Phase.Test);
        context.Inputs["features"] = features;
        context.Inputs["rois"] = rois;
        var pooled = net.Forward(context).Blobs["pooled"].ToArray();
        // Channel 0 value at (y, x) is 5y + x: bin (0,0) rows 1..2 cols 1..2 → 12; (0,1) cols 2..3 → 13; (1,0) rows 2..3 → 17; (1,1) → 18.
        Assert.Equal([12f, 13f, 17f, 18f, 32f, 33f, 37f, 38f, 0, 0, 0, 0, 0, 0, 0, 0], pooled);
        Assert.Equal(Functional.RoiPool(features, rois, (2, 2), 0.5f).ToArray(), pooled);
    }

    [Fact]
    public void RoiPoolingNeedsPooledSizes()
    {
        var error = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build(RoiNet.Replace("pooled_h: 2 ", ""), Phase.Test));
        Assert.Contains("'pool'", error.Message);
        Assert.Contains("pooled_h", error.Message);
    }

    private const string SmoothNet = """
        layer { name: "in" type: "Input" top: "p" top: "t" top: "win" top: "wout" input_param { shape { dim: 2 dim: 3 } } }
        layer { name: "loss" type: "SmoothL1Loss" bottom: "p" bottom: "t" bottom: "win" bottom: "wout" top: "loss" smooth_l1_loss_param { sigma: 2 } }
        """;

    [Fact]
    public void SmoothL1WeighsInsideAndOutsideAndDividesByTheBatch()
    {
        var net = NetBuilderTests.Build(SmoothNet);
        var context = new NetContext(Phase.Train);
        context.Inputs["p"] = Tensor.FromArray([0.1f, 1f, -2f, 0.5f, 0f, 3f], 2, 3);
        context.Inputs["t"] = Tensor.FromArray([0f, 0f, 0f, 0f, 0f, 0f], 2, 3);
        context.Inputs["win"] = Tensor.FromArray([1f, 1f, 0.5f, 2f, 1f, 0f], 2, 3);
        context.Inputs["wout"] = Tensor.FromArray([1f, 2f, 1f, 1f, 1f, 1f], 2, 3);
        // σ = 2: 1/σ² = 0.25. d = win·(p − t) = 0.1, 1, −1, 1, 0, 0.
        // 0.1 < 0.25 → 0.5·4·0.01 = 0.02; |1| → 1 − 0.125 = 0.875 (×2 outside = 1.75); |−1| → 0.875; 1 → 0.875; 0; 0.
        // Sum 0.02 + 1.75 + 0.875 + 0.875 = 3.52, over the batch of 2: 1.76.
        var result = net.Forward(context);
        Assert.Equal(1.76f, result.Loss!.Item(), 5);
    }

    [Fact]
    public void SmoothL1GradientMatchesFiniteDifferences()
    {
        var g = new Generator(3);
        var prediction = TestTensors.Leaf(g, 2, 3, 2, 2);
        var p = prediction.AsSpan();
        for (int i = 0; i < p.Length; i++)   // |d| stays clear of the kink at 1/σ² = 0.25, so both branches are checked smoothly
            if (Math.Abs(Math.Abs(p[i]) - 0.25f) < 0.05f) p[i] = Math.Sign(p[i]) * (i % 2 == 0 ? 0.1f : 0.4f);
        var target = Tensor.Zeros(2, 3, 2, 2);
        var inside = Tensor.Ones(2, 3, 2, 2);
        var outside = TestTensors.UniformLeaf(g, 0.5f, 1.5f, 2, 3, 2, 2).Detach();
        var net = NetBuilderTests.Build(SmoothNet.Replace("dim: 2 dim: 3", "dim: 2 dim: 3 dim: 2 dim: 2"));
        GradientCheck.Check(x =>
        {
            var context = new NetContext(Phase.Train);
            (context.Inputs["p"], context.Inputs["t"], context.Inputs["win"], context.Inputs["wout"]) = (x[0], target, inside, outside);
            return net.Forward(context).Loss!;
        }, [prediction], output, "SmoothL1Loss sigma 2", step: 1e-3);
    }

    [Fact]
    public void SmoothL1RefusesThreeBottoms()
    {
        var error = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build(SmoothNet.Replace(" bottom: \"wout\"", "")));
        Assert.Contains("inside and outside", error.Message);
    }

    [Fact]
    public void DropoutWithoutScaleTrainScalesAtTestInstead()
    {
        const string net = """
            layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 4 } } }
            layer { name: "drop" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: 0.25 scale_train: false } }
            """;
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], 1, 4);
        var test = new NetContext(Phase.Test);
        test.Inputs["x"] = x;
        Assert.Equal([0.75f, 1.5f, 2.25f, 3f], NetBuilderTests.Build(net, Phase.Test).Forward(test).Blobs["y"].ToArray());
        var train = new NetContext(Phase.Train);
        train.Inputs["x"] = x;
        var y = NetBuilderTests.Build(net).Forward(train).Blobs["y"].ToArray();
        for (int i = 0; i < 4; i++) Assert.True(y[i] == 0 || y[i] == x.ToArray()[i], $"element {i}: {y[i]} is neither dropped nor kept unscaled");
    }
}
