using Backprop.Caffe;
using Backprop.Caffe.Proto;

namespace Backprop.Tests.Caffe;

public class BlobProtosTests
{
    private const string Where = "w.caffemodel: layer 'conv1' blob 0";

    [Fact]
    public void ShapeWithMoreElementsThanATensorHoldsIsACaffeNetException()
    {
        var blob = new BlobProto { Shape = new BlobShape() };
        blob.Shape.Dim.Add([100000, 100000, 2]);
        blob.Data.Add([1f, 2f]);
        var e = Assert.Throws<CaffeNetException>(() => BlobProtos.Values(blob, new Shape(2), Where));
        Assert.Contains(Where, e.Message);
        Assert.Contains("100000 x 100000 x 2", e.Message);
    }

    [Fact]
    public void NegativeLegacyDimensionIsACaffeNetException()
    {
        var blob = new BlobProto { Num = -1, Channels = 1, Height = 1, Width = 2 };
        blob.Data.Add([1f, 2f]);
        var e = Assert.Throws<CaffeNetException>(() => BlobProtos.Values(blob, new Shape(2), Where));
        Assert.Contains("-1 x 1 x 1 x 2", e.Message);
    }

    [Fact]
    public void ValuesThatDoNotFillTheExpectedShapeAreRefused()
    {
        var blob = new BlobProto { Shape = new BlobShape() };
        blob.Shape.Dim.Add([2, 3]);
        blob.Data.Add([1f, 2f]);
        var e = Assert.Throws<CaffeNetException>(() => BlobProtos.Values(blob, new Shape(2, 3), Where));
        Assert.Contains("with 2 values, but the net expects (2, 3)", e.Message);
    }
}
