using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Tests.Caffe.Net;

/// <summary>A net whose num_output or input is huge is refused at build time, naming the layer and the memory, before allocating.</summary>
public sealed class LayerMemoryTests
{
    private static CaffeNet Build(string layers, long? limit) =>
        CaffeNet.Build(Prototxt.Parse<NetParameter>("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 1 dim: 6 dim: 6 } } }
            """ + layers), new NetState { Phase = Phase.Test }, new Generator(0), new NetContext(Phase.Test) { MemoryLimitBytes = limit });

    private const string HugeInnerProduct = """layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" inner_product_param { num_output: 100000 } }""";

    [Fact]
    public void WeightsThatDoNotFitAreRefusedNamingTheLayerAndTheSizes()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build(HugeInnerProduct, limit: 1 << 20));
        Assert.Contains("Layer 'ip1' (type InnerProduct): its weights (100000, 36) need 13.7 MiB", e.Message);
        Assert.Contains("1.0 MiB", e.Message);
        Assert.Contains("num_output", e.Message);
    }

    [Fact]
    public void ConvolutionWeightsAreCheckedToo()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build("""
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 50000 kernel_size: 3 } }
            """, limit: 1 << 20));
        Assert.Contains("Layer 'conv1' (type Convolution): its weights (50000, 1, 3, 3) need 1.7 MiB", e.Message);
    }

    [Fact]
    public void TopBlobsThatDoNotFitAreRefused()
    {
        // Split allocates nothing when built, but each forward pass would: 4 tops of 2x1x6x6 floats = 1152 bytes.
        var e = Assert.Throws<CaffeNetException>(() => Build("""
            layer { name: "split" type: "Split" bottom: "data" top: "a" top: "b" top: "c" top: "d" }
            """, limit: 1000));
        Assert.Contains("Layer 'split' (type Split): its top blobs", e.Message);
        Assert.Contains("1.1 KiB", e.Message);
        Build("""layer { name: "split" type: "Split" bottom: "data" top: "a" top: "b" top: "c" top: "d" }""", limit: 1152);
    }

    [Fact]
    public void WithoutALimitTheMachinesMemoryIsTheBound()
    {
        Assert.Single(Build(HugeInnerProduct, limit: null).Layers, l => l.Name == "ip1");
        Assert.True(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes > 0);
    }
}
