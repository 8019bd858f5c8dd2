using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.Caffe;
using Backprop.Viz;

namespace Backprop.Tests.Viz;

public class ModelSummaryTests
{
    private static NetParameter Lenet() => Prototxt.Parse<NetParameter>(LenetPrototxts.TrainTest);

    [Fact]
    public void LenetParameterCountsMatchHandCounts()
    {
        var net = CaffeInspection.Build(Lenet(), Phase.Train, [64, 1, 28, 28]);
        var summary = ModelSummary.Of(net);
        // conv1: 20 filters of 1x5x5 + 20 biases; conv2: 50 of 20x5x5 + 50; after two 2x2 pools the maps are 4x4,
        // so ip1 sees 50*4*4 = 800 inputs: 500*800 + 500; ip2: 10*500 + 10.
        long conv1 = 20 * 1 * 5 * 5 + 20, conv2 = 50 * 20 * 5 * 5 + 50, ip1 = 500 * 800 + 500, ip2 = 10 * 500 + 10;
        Assert.Equal(431080, conv1 + conv2 + ip1 + ip2);
        var counts = summary.Rows.ToDictionary(r => r.Name, r => r.Parameters);
        Assert.Equal(conv1, counts["conv1"]);
        Assert.Equal(conv2, counts["conv2"]);
        Assert.Equal(ip1, counts["ip1"]);
        Assert.Equal(ip2, counts["ip2"]);
        Assert.Equal(0, counts["pool1"]);
        Assert.Equal(431080, summary.TotalParameters);
        Assert.Equal(431080, summary.TrainableParameters);
        Assert.Equal(new Shape(64, 20, 24, 24), summary.Rows.Single(r => r.Name == "conv1").OutputShapes[0]);

        string text = summary.ToString();
        Assert.Contains("Model: \"LeNet\"", text);
        Assert.Contains("conv1 (Convolution)", text);
        Assert.Contains("(64, 50, 8, 8)", text);
        Assert.Contains("Total params: 431,080", text);
        Assert.Contains("Non-trainable params: 0", text);
    }

    [Fact]
    public void LrMultZeroMakesParametersNonTrainable()
    {
        var def = Lenet();
        foreach (var spec in def.Layer.Single(l => l.Name == "conv1").Param) spec.LrMult = 0;
        var summary = ModelSummary.Of(CaffeInspection.Build(def, Phase.Test, [1, 1, 28, 28]));
        Assert.Equal(431080, summary.TotalParameters);
        Assert.Equal(520, summary.NonTrainableParameters);
        Assert.Equal(new Shape(1, 10), summary.Rows.Single(r => r.Name == "ip2").OutputShapes[0]);
        Assert.Contains("Trainable params: 430,560", summary.ToString());
    }

    [Fact]
    public void MissingDataSuggestsAnInputShape()
    {
        var e = Assert.Throws<Backprop.Caffe.CaffeNetException>(() => CaffeInspection.Build(Lenet(), Phase.Train));
        Assert.Contains("--input-shape", e.Message);
    }
}
