using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Xunit.Abstractions;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>Builds one Caffe layer outside a net, checks its gradients, and runs it inside a small net.</summary>
internal static class LayerHarness
{
    /// <summary>A layer from its prototxt text (without the <c>layer { }</c>), set up for the given bottom shapes.</summary>
    public static CaffeLayer Make(string text, params int[][] bottoms)
    {
        var layer = LayerFactory.Create(Prototxt.Parse<LayerParameter>(text, "layer.prototxt"));
        layer.Setup(bottoms.Select(b => new Shape(b)).ToArray(), new NetContext(Phase.Train), new Generator(7));
        return layer;
    }

    public static Tensor Forward(CaffeLayer layer, params Tensor[] bottoms) => layer.Forward(bottoms, new NetContext(Phase.Train), 0)[0];

    /// <summary>Gradient check of the layer's first top against its bottoms that require a gradient and its blobs.</summary>
    public static double CheckGradients(CaffeLayer layer, Tensor[] bottoms, ITestOutputHelper output, int top = 0,
        double step = 1e-2, double threshold = 1e-2)
    {
        var inputs = bottoms.Concat(layer.Blobs).ToArray();
        var names = bottoms.Select((_, i) => $"bottom {i}").Concat(layer.Blobs.Select((_, i) => $"blob {i}")).ToArray();
        return GradientCheck.Check(xs => layer.Forward(xs[..bottoms.Length], new NetContext(Phase.Train), 0)[top], inputs, output,
            layer.ToString(), names, step, threshold);
    }

    /// <summary>
    /// A net: an Input layer with tops <c>data</c> (and more, per <paramref name="inputs"/>) followed by
    /// <paramref name="layers"/>; runs forward with the given values and backward from the loss when there is one.
    /// </summary>
    public static (CaffeNet Net, NetResult Result) Run(string layers, params (string Name, Tensor Value)[] inputs)
    {
        string input = $"layer {{ name: \"input\" type: \"Input\" {string.Join(" ", inputs.Select(i => $"top: \"{i.Name}\""))} input_param {{ "
            + string.Join(" ", inputs.Select(i => "shape { " + string.Join(" ", i.Value.Shape.ToArray().Select(d => $"dim: {d}")) + " }")) + " } }\n";
        var context = new NetContext(Phase.Train, 1);
        foreach (var (name, value) in inputs) context.Inputs[name] = value;
        var net = CaffeNet.Build(Prototxt.Parse<NetParameter>("name: \"t\"\n" + input + layers, "test.prototxt"),
            new NetState { Phase = Phase.Train }, new Generator(1), context);
        var result = net.Forward(context);
        if (result.Loss is { RequiresGrad: true } loss) loss.Backward();
        return (net, result);
    }

    /// <summary>The message of the error building <paramref name="layers"/> after an Input of the given shape gives.</summary>
    public static string BuildError(string layers, params int[][] shapes)
    {
        var inputs = shapes.Select((s, i) => (i == 0 ? "data" : $"in{i}", Tensor.Zeros(s))).ToArray();
        return Assert.Throws<CaffeNetException>(() => Run(layers, inputs)).Message;
    }

    public static Tensor Values(float[] values, params int[] shape) => Tensor.FromArray(values, shape);

    public static Tensor Leaf(float[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, shape);
        t.RequiresGrad = true;
        return t;
    }
}
