using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>Builds a tiny prototxt net and runs it on given input values, for the layer tests in this folder.</summary>
internal static class LayerNets
{
    public static CaffeNet Build(string prototxt, Phase phase = Phase.Test) =>
        CaffeNet.Build(Prototxt.Parse<NetParameter>(prototxt), new NetState { Phase = phase }, new Generator(0), new NetContext(phase));

    /// <summary>One forward pass; inputs by top name.</summary>
    public static NetResult Run(CaffeNet net, Phase phase, params (string Name, Tensor Value)[] inputs) => Run(net, new NetContext(phase, seed: 7), inputs);

    public static NetResult Run(CaffeNet net, NetContext context, params (string Name, Tensor Value)[] inputs)
    {
        foreach (var (name, value) in inputs) context.Inputs[name] = value;
        return net.Forward(context);
    }

    /// <summary>An input layer with one top per shape: <c>Input("data", [1, 1, 4, 4])</c>.</summary>
    public static string Input(params (string Top, int[] Shape)[] tops) =>
        "layer { name: \"input\" type: \"Input\" " + string.Concat(tops.Select(t => $"top: \"{t.Top}\" ")) + "input_param { " +
        string.Concat(tops.Select(t => "shape { " + string.Concat(t.Shape.Select(d => $"dim: {d} ")) + "} ")) + "} }\n";

    /// <summary>0, 1, 2, ... in the given shape.</summary>
    public static Tensor Arange(params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var d = t.AsSpan();
        for (int i = 0; i < d.Length; i++) d[i] = i;
        return t;
    }
}
