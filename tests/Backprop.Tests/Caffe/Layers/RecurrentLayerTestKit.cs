using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>Builds one Caffe layer outside a net and compares tensors with references.</summary>
internal static class RecurrentLayerTestKit
{
    /// <summary>The layer <paramref name="prototxt"/> defines, set up for bottoms of <paramref name="bottoms"/>.</summary>
    public static CaffeLayer Make(string prototxt, params Shape[] bottoms)
    {
        var layer = LayerFactory.Create(Prototxt.Parse<LayerParameter>(prototxt, "layer.prototxt"));
        layer.Setup(bottoms, new NetContext(Phase.Train), new Generator(5));
        return layer;
    }

    public static Tensor[] Forward(CaffeLayer layer, params Tensor[] bottoms) =>
        layer.Forward(bottoms, new NetContext(Phase.Train), 0).ToArray();

    /// <summary>Copies reference values into the layer's blob <paramref name="index"/> (same element count).</summary>
    public static void SetBlob(CaffeLayer layer, int index, float[] values)
    {
        Assert.Equal(values.Length, layer.Blobs[index].Length);
        values.CopyTo(layer.Blobs[index].AsSpan());
    }

    public static void Close(float[] expected, Tensor? actual, string what, float tolerance = 2e-5f)
    {
        Assert.NotNull(actual);
        var a = actual!.ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - expected[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"{what}[{i}]: expected {expected[i]}, got {a[i]}");
    }

    public static Tensor Leaf(float[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, shape);
        t.RequiresGrad = true;
        return t;
    }
}
