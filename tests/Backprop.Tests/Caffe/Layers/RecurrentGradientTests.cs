using Backprop.Caffe;
using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.RecurrentLayerTestKit;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>
/// Gradient checks of Caffe's recurrent layers (the cases of Caffe's test_lstm_layer.cpp / test_rnn_layer.cpp):
/// every element of x, x_static and every blob, with resets inside the sequence. cont[0] is 0 in every stream, so the
/// state carried from the previous forward pass (which changes on every call) does not enter the result.
/// </summary>
public class RecurrentGradientTests(ITestOutputHelper output)
{
    private const int T = 3, N = 2, H = 2;

    // Streams start at t = 0; stream 1 starts again at t = 2; cont 0.5 scales the state (Caffe allows any value).
    private static readonly float[] Cont = [0, 0, 1, 0.5f, 1, 0];

    private static void CheckLayer(ITestOutputHelper output, string type, bool withStatic, string label)
    {
        string extra = $"weight_filler {{ type: 'uniform' min: -0.6 max: 0.6 }} bias_filler {{ type: 'uniform' min: -0.6 max: 0.6 }}";
        var shapes = new List<Shape> { new(T, N, 2, 2), new(T, N) };
        if (withStatic) shapes.Add(new Shape(N, 3));
        var layer = Make($"name: 'r' type: '{type}' recurrent_param {{ num_output: {H} {extra} }}", [.. shapes]);
        var g = new Generator(11);
        var x = Tensor.Uniform(g, -1, 1, T, N, 2, 2);
        x.RequiresGrad = true;
        var cont = Tensor.FromArray(Cont, T, N);
        var inputs = new List<Tensor> { x, cont };
        if (withStatic)
        {
            var s = Tensor.Uniform(g, -1, 1, N, 3);
            s.RequiresGrad = true;
            inputs.Add(s);
        }
        int bottoms = inputs.Count;
        inputs.AddRange(layer.Blobs);
        var names = new List<string> { "x", "cont" };
        if (withStatic) names.Add("x_static");
        names.AddRange(layer.Blobs.Select((_, i) => $"blob {i}"));
        GradientCheck.Check(t => Forward(layer, t[..bottoms])[0], [.. inputs], output, label, [.. names], step: 1e-2, threshold: 2e-3);
    }

    [Fact] public void LstmGradient() => CheckLayer(output, "LSTM", withStatic: false, "LSTM");
    [Fact] public void LstmGradientWithStaticInput() => CheckLayer(output, "LSTM", withStatic: true, "LSTM x_static");
    [Fact] public void RnnGradient() => CheckLayer(output, "RNN", withStatic: false, "RNN");
    [Fact] public void RnnGradientWithStaticInput() => CheckLayer(output, "RNN", withStatic: true, "RNN x_static");

    [Fact]
    public void LstmUnitGradient()
    {
        var layer = Make("name: 'unit' type: 'LSTMUnit'", new Shape(1, 3, 2), new Shape(1, 3, 8), new Shape(1, 3));
        var g = new Generator(12);
        var cPrev = Tensor.Uniform(g, -1, 1, 1, 3, 2);
        var gates = Tensor.Uniform(g, -1, 1, 1, 3, 8);
        cPrev.RequiresGrad = gates.RequiresGrad = true;
        var cont = Tensor.FromArray([1, 0, 1], 1, 3);
        // Both tops count: a random mix of c and h.
        GradientCheck.Check(t =>
        {
            var tops = Forward(layer, t);
            return Tensor.Concat([tops[0], tops[1]], 0);
        }, [cPrev, gates, cont], output, "LSTMUnit", ["c_prev", "X", "cont"], threshold: 2e-3);
    }
}
