using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Tests.Caffe.Net;
using Backprop.Tests.IO;
using PureHDF;

namespace Backprop.Tests.Caffe.Hdf5;

public sealed class Hdf5OutputLayerTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private CaffeNet Build(string fileName) => NetBuilderTests.Build($$"""
        layer { name: "in" type: "Input" top: "data" top: "label" input_param { shape { dim: 3 dim: 2 dim: 2 } shape { dim: 3 } } }
        layer { name: "out" type: "HDF5Output" bottom: "data" bottom: "label" hdf5_output_param { file_name: "{{fileName}}" } }
        """, Phase.Test);

    [Fact]
    public void BottomsRoundTripThroughHdf5DataAsCaffesDataAndLabelDatasets()
    {
        string file = dir.File("out.h5");
        var net = Build(file);
        var data = Enumerable.Range(0, 12).Select(i => i * 0.25f - 1).ToArray();
        var labels = new[] { 2f, 0, 1 };
        var context = new NetContext(Phase.Test);
        context.Inputs["data"] = Tensor.FromArray(data, 3, 2, 2);
        context.Inputs["label"] = Tensor.FromArray(labels, 3);
        net.Forward(context);

        using (var h5 = H5File.OpenRead(file))
        {
            Assert.Equal([3UL, 2, 2, 1], h5.Dataset("data").Space.Dimensions);   // Caffe's legacy num, channels, height, width
            Assert.Equal([3UL, 1, 1, 1], h5.Dataset("label").Space.Dimensions);
            Assert.Equal(data, h5.Dataset("data").Read<float[]>());
            Assert.Equal(labels, h5.Dataset("label").Read<float[]>());
        }

        // What HDF5Output writes, HDF5Data reads back.
        File.WriteAllText(dir.File("list.txt"), file);
        var reader = NetBuilderTests.Build($$"""
            layer { name: "d" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "{{dir.File("list.txt")}}" batch_size: 3 } }
            """, Phase.Test);
        var result = reader.Forward(new NetContext(Phase.Test));
        Assert.Equal(new Shape(3, 2, 2, 1), result.Blobs["data"].Shape);
        Assert.Equal(data, result.Blobs["data"].ToArray());
        Assert.Equal(labels, result.Blobs["label"].ToArray());
    }

    [Fact]
    public void AnUnwritableFileIsNamedInTheError()
    {
        string file = dir.File("missing-folder/out.h5");
        var net = Build(file);
        var context = new NetContext(Phase.Test);
        context.Inputs["data"] = Tensor.Zeros(3, 2, 2);
        context.Inputs["label"] = Tensor.Zeros(3);
        var e = Assert.Throws<CaffeNetException>(() => net.Forward(context));
        Assert.Contains(file, e.Message);
        Assert.Contains("'out'", e.Message);
    }
}
