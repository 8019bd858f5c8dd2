using Backprop.Caffe;
using static Backprop.Tests.Caffe.Layers.RecurrentLayerTestKit;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>What cont does, worked by hand on one-unit layers, and the state Caffe carries from one forward pass to the next.</summary>
public class RecurrentStateTests
{
    // One unit, all weights 1 and biases 0: h[t] = tanh(cont[t]·h[t−1] + x[t]), o[t] = tanh(h[t]).
    private static CaffeLayer UnitRnn(int steps, int streams = 1, string extra = "") =>
        Make($"name: 'rnn' type: 'RNN' recurrent_param {{ num_output: 1 weight_filler {{ type: 'constant' value: 1 }} {extra} }}",
            new Shape(steps, streams, 1), new Shape(steps, streams));

    [Fact]
    public void RnnContZeroDropsTheStateByHand()
    {
        var layer = UnitRnn(3);
        var o = Forward(layer, Tensor.FromArray([0.5f, 0.25f, 0.5f], 3, 1, 1), Tensor.FromArray([0, 1, 0], 3, 1))[0].ToArray();
        float h1 = MathF.Tanh(0.5f), h2 = MathF.Tanh(h1 + 0.25f), h3 = MathF.Tanh(0.5f);   // cont 0 at t = 2: h2 is dropped
        Assert.Equal([MathF.Tanh(h1), MathF.Tanh(h2), MathF.Tanh(h3)], o, (a, b) => Math.Abs(a - b) < 1e-6f);
        Assert.Equal(o[0], o[2]);
    }

    [Fact]
    public void RnnCarriesItsStateIntoTheNextForwardUnlessContIsZero()
    {
        var layer = UnitRnn(1);
        var x = Tensor.FromArray([0.5f], 1, 1, 1);
        float first = Forward(layer, x, Tensor.FromArray([1], 1, 1))[0].Item();   // carried state starts at zero
        Assert.Equal(MathF.Tanh(MathF.Tanh(0.5f)), first, 6);
        float second = Forward(layer, x, Tensor.FromArray([1], 1, 1))[0].Item();
        Assert.Equal(MathF.Tanh(MathF.Tanh(MathF.Tanh(0.5f) + 0.5f)), second, 6);
        float reset = Forward(layer, x, Tensor.FromArray([0], 1, 1))[0].Item();
        Assert.Equal(first, reset);
    }

    [Fact]
    public void LstmUnitByHand()
    {
        // Pre-activations i' = f' = o' = 0 (σ = 1/2) and g' = atanh(1/2) (g = 1/2), c_prev = 1.
        var layer = Make("name: 'unit' type: 'LSTMUnit'", new Shape(1, 3, 1), new Shape(1, 3, 4), new Shape(1, 3));
        float gPre = MathF.Atanh(0.5f);
        var gates = Tensor.FromArray([0, 0, 0, gPre, 0, 0, 0, gPre, 0, 0, 0, gPre], 1, 3, 4);
        var tops = Forward(layer, Tensor.FromArray([1, 1, 1], 1, 3, 1), gates, Tensor.FromArray([1, 0, 0.5f], 1, 3));
        // c = cont·σ(f')·c_prev + σ(i')·g: 1/2 + 1/4, 0 + 1/4, 1/4 + 1/4; h = σ(o')·tanh(c).
        float[] c = [0.75f, 0.25f, 0.5f];
        Assert.Equal(c, tops[0].ToArray(), (a, b) => Math.Abs(a - b) < 1e-6f);
        Assert.Equal(c.Select(v => 0.5f * MathF.Tanh(v)), tops[1].ToArray(), (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void LstmStepByStepEqualsTheWholeSequence()
    {
        // Caffe's TestForward: one pass over T steps equals T passes of one step each, the state carried between them.
        const int steps = 4, streams = 2, inputs = 3, hidden = 3;
        string def = "name: 'lstm' type: 'LSTM' recurrent_param { num_output: 3 weight_filler { type: 'uniform' min: -1 max: 1 } bias_filler { type: 'uniform' min: -1 max: 1 } }";
        var whole = Make(def, new Shape(steps, streams, inputs), new Shape(steps, streams));
        var single = Make(def, new Shape(1, streams, inputs), new Shape(1, streams));
        for (int b = 0; b < whole.Blobs.Count; b++) SetBlob(single, b, whole.Blobs[b].ToArray());
        var x = Tensor.Uniform(new Generator(3), -1, 1, steps, streams, inputs);
        float[] cont = [0, 0, 1, 1, 1, 0, 1, 1];
        var all = Forward(whole, x, Tensor.FromArray(cont, steps, streams))[0].ToArray();
        for (int t = 0; t < steps; t++)
        {
            var step = Forward(single, x.Slice(t, t + 1), Tensor.FromArray(cont[(t * streams)..((t + 1) * streams)], 1, streams))[0].ToArray();
            Assert.Equal(all[(t * streams * hidden)..((t + 1) * streams * hidden)], step, (a, b) => Math.Abs(a - b) < 1e-6f);
        }
        // With cont 0 everywhere each step starts afresh: the one-step pass repeats the first step of a fresh sequence.
        var fresh = Forward(single, x.Slice(0, 1), Tensor.FromArray([0, 0], 1, streams))[0].ToArray();
        Assert.Equal(all[..(streams * hidden)], fresh, (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void ExposedInitialStateBottomsMustHaveTheStateShape()
    {
        var e = Assert.Throws<CaffeNetException>(() => Make(
            "name: 'lstm' type: 'LSTM' recurrent_param { num_output: 2 expose_hidden: true }",
            new Shape(3, 2, 4), new Shape(3, 2), new Shape(1, 2, 3), new Shape(1, 2, 2)));
        Assert.Contains("'lstm'", e.Message);
        Assert.Contains("(1, 2, 2)", e.Message);
    }

    [Fact]
    public void ContOfTheWrongShapeNamesTheLayer()
    {
        var e = Assert.Throws<CaffeNetException>(() => Make("name: 'rnn' type: 'RNN' recurrent_param { num_output: 2 }",
            new Shape(3, 2, 4), new Shape(3, 4)));
        Assert.Contains("'rnn'", e.Message);
        Assert.Contains("cont", e.Message);
    }

    [Fact]
    public void StaticInputAddsItsBlobInCaffesPlace()
    {
        var lstm = Make("name: 'lstm' type: 'LSTM' recurrent_param { num_output: 2 }", new Shape(3, 2, 4), new Shape(3, 2), new Shape(2, 5));
        Assert.Equal([new Shape(8, 4), new Shape(8), new Shape(8, 5), new Shape(8, 2)], lstm.Blobs.Select(b => b.Shape));
        var rnn = Make("name: 'rnn' type: 'RNN' recurrent_param { num_output: 2 }", new Shape(3, 2, 4), new Shape(3, 2), new Shape(2, 5));
        Assert.Equal([new Shape(2, 4), new Shape(2), new Shape(2, 5), new Shape(2, 2), new Shape(2, 2), new Shape(2)], rnn.Blobs.Select(b => b.Shape));
    }
}
