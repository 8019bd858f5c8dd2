using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using Backprop.Tests.Caffe.Net;

namespace Backprop.Tests.Caffe.Layers;

public class MemoryDataLayerTests
{
    private const string Net = """
        layer { name: "mem" type: "MemoryData" top: "data" top: "label" memory_data_param { batch_size: 2 channels: 1 height: 1 width: 2 } }
        """;

    [Fact]
    public void ServesBatchesFromResetAndWrapsAround()
    {
        var net = NetBuilderTests.Build(Net);
        var layer = Assert.IsType<MemoryDataLayer>(net.Layers[0]);
        Assert.Equal(new Shape(2, 1, 1, 2), net.BlobShapes["data"]);
        layer.Reset([1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 2, 3], 4);
        var context = new NetContext(Phase.Train, 1);
        var first = net.Forward(context);
        Assert.Equal([1f, 2f, 3f, 4f], first.Blobs["data"].ToArray());
        Assert.Equal([0f, 1f], first.Blobs["label"].ToArray());
        Assert.Equal([5f, 6f, 7f, 8f], net.Forward(context).Blobs["data"].ToArray());
        Assert.Equal([1f, 2f, 3f, 4f], net.Forward(context).Blobs["data"].ToArray());
    }

    [Fact]
    public void RefusesACountThatIsNotAMultipleOfTheBatch()
    {
        var layer = Assert.IsType<MemoryDataLayer>(NetBuilderTests.Build(Net).Layers[0]);
        var e = Assert.Throws<CaffeNetException>(() => layer.Reset([1, 2, 3, 4, 5, 6], [0, 1, 2], 3));
        Assert.Contains("multiple of batch_size 2", e.Message);
        var empty = NetBuilderTests.Build(Net);
        Assert.Throws<CaffeNetException>(() => empty.Forward(new NetContext(Phase.Train, 1)));
    }
}
