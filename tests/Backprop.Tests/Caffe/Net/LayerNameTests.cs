using Backprop.Caffe;

namespace Backprop.Tests.Caffe.Net;

/// <summary>Caffe allows repeated layer names (its mnist_autoencoder has two 'loss' layers); weights, kept by name, may not repeat.</summary>
public class LayerNameTests
{
    private const string Net = """
        layer { name: "in" type: "Input" top: "x" top: "l" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 3 } } }
        layer { name: "ip" type: "InnerProduct" bottom: "x" top: "h" inner_product_param { num_output: 3 } }
        layer { name: "SECOND" type: "InnerProduct" bottom: "h" top: "h2" inner_product_param { num_output: 3 } }
        layer { name: "loss" type: "EuclideanLoss" bottom: "h2" bottom: "l" top: "l2" }
        layer { name: "loss" type: "EuclideanLoss" bottom: "h" bottom: "l" top: "l1" loss_weight: 0 }
        """;

    [Fact]
    public void LayersWithoutBlobsMayShareAName()
    {
        var net = NetBuilderTests.Build(Net.Replace("SECOND", "ip2"));
        Assert.Equal(2, net.Layers.Count(l => l.Name == "loss"));
        // A test net shares the train net's weights, and a snapshot writes them, by name.
        var test = NetBuilderTests.Build(Net.Replace("SECOND", "ip2"), Backprop.Caffe.Proto.Phase.Test, seed: 2);
        test.ShareWeightsWith(net);
        Assert.Same(net.Layers.First(l => l.Name == "ip").Blobs[0], test.Layers.First(l => l.Name == "ip").Blobs[0]);
        var proto = net.ToProto(Backprop.Caffe.TextFormat.Prototxt.Parse<Backprop.Caffe.Proto.NetParameter>(Net.Replace("SECOND", "ip2")));
        Assert.Equal(2, proto.Layer.Count(l => l.Name == "loss"));
        Assert.Equal(2, proto.Layer.First(l => l.Name == "ip2").Blobs.Count);
    }

    [Fact]
    public void WeightsLoadIntoTheLayerWithBlobsWhenABlobLessLayerSharesItsName()
    {
        // The first 'ip2' (a ReLU) has no blobs; the weights must reach the InnerProduct of that name.
        string net = Net.Replace("SECOND", "ip2").Replace(
            "layer { name: \"ip2\"", "layer { name: \"ip2\" type: \"ReLU\" bottom: \"h\" top: \"h\" }\n        layer { name: \"ip2\"");
        var trained = NetBuilderTests.Build(net, seed: 3);
        var fresh = NetBuilderTests.Build(net, seed: 4);
        fresh.CopyTrainedLayersFrom(trained.ToProto(Backprop.Caffe.TextFormat.Prototxt.Parse<Backprop.Caffe.Proto.NetParameter>(net)), "trained");
        Assert.Equal(trained.Layers.Last(l => l.Name == "ip2").Blobs[0].ToArray(), fresh.Layers.Last(l => l.Name == "ip2").Blobs[0].ToArray());
    }

    [Fact]
    public void LayersWithBlobsMayNot()
    {
        var e = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build(Net.Replace("SECOND", "ip")));
        Assert.Contains("'ip'", e.Message);
        Assert.Contains("by layer name", e.Message);
    }
}
