using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Optim;
using Backprop.Tests.Caffe.Net;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>Embed → LSTM → InnerProduct → SoftmaxWithLoss through CaffeNet, learning to predict the next token of a cycle.</summary>
public class RecurrentTinyNetTests
{
    private const int Steps = 5, Streams = 4, Vocabulary = 6;

    private static readonly string Net = $$"""
        name: "tiny_lstm"
        layer { name: "data" type: "Input" top: "words" top: "cont" top: "target"
          input_param { shape { dim: {{Steps}} dim: {{Streams}} } shape { dim: {{Steps}} dim: {{Streams}} } shape { dim: {{Steps * Streams}} } } }
        layer { name: "embed" type: "Embed" bottom: "words" top: "embedded"
          embed_param { input_dim: {{Vocabulary}} num_output: 8 weight_filler { type: "uniform" min: -0.1 max: 0.1 } } }
        layer { name: "lstm" type: "LSTM" bottom: "embedded" bottom: "cont" top: "lstm"
          recurrent_param { num_output: 12 weight_filler { type: "uniform" min: -0.1 max: 0.1 } bias_filler { type: "constant" value: 0 } } }
        layer { name: "predict" type: "InnerProduct" bottom: "lstm" top: "predict"
          inner_product_param { num_output: {{Vocabulary}} axis: 2 weight_filler { type: "xavier" } } }
        layer { name: "flat" type: "Flatten" bottom: "predict" top: "flat" flatten_param { axis: 0 end_axis: 1 } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "flat" bottom: "target" top: "loss" }
        """;

    [Fact]
    public void EmbedAndLstmLearnTheNextToken()
    {
        var net = NetBuilderTests.Build(Net);
        Assert.Equal(new Shape(Steps, Streams, 12), net.BlobShapes["lstm"]);
        var optimizer = new Sgd(net.Parameters, 0.5f, momentum: 0.9f);
        var losses = new List<float>();
        for (int iteration = 0; iteration < 60; iteration++)
        {
            // Each stream counts up (mod 6) from its own start; the target is the next word. Every batch starts new sequences.
            var words = new float[Steps * Streams];
            var cont = new float[Steps * Streams];
            var target = new float[Steps * Streams];
            for (int t = 0; t < Steps; t++)
                for (int n = 0; n < Streams; n++)
                {
                    int w = (iteration + 3 * n + t) % Vocabulary;
                    words[t * Streams + n] = w;
                    cont[t * Streams + n] = t == 0 ? 0 : 1;
                    target[t * Streams + n] = (w + 1) % Vocabulary;
                }
            var context = new NetContext(Phase.Train) { Iteration = iteration };
            context.Inputs["words"] = Tensor.FromArray(words, Steps, Streams);
            context.Inputs["cont"] = Tensor.FromArray(cont, Steps, Streams);
            context.Inputs["target"] = Tensor.FromArray(target, Steps * Streams);
            optimizer.ZeroGrad();
            var loss = net.Forward(context).Loss!;
            loss.Backward();
            optimizer.Step();
            losses.Add(loss.Item());
        }
        Assert.InRange(losses[0], 1.5f, 2.1f);   // about ln 6 untrained
        Assert.True(losses.TakeLast(5).Average() < 0.5f * losses[0], $"loss went {losses[0]} → {losses[^1]}");
    }

    [Fact]
    public void TrainedEmbedAndLstmBlobsRoundTripThroughACaffeModelMessage()
    {
        var source = NetBuilderTests.Build(Net, seed: 1);
        var trained = source.ToProto(Prototxt.Parse<NetParameter>(Net));
        Assert.Equal(3, trained.Layer.Single(l => l.Name == "lstm").Blobs.Count);   // W_xc, b_c, W_hc
        var target = NetBuilderTests.Build(Net, seed: 2);
        Assert.NotEqual(source.Parameters.SelectMany(p => p.ToArray()), target.Parameters.SelectMany(p => p.ToArray()));
        target.CopyTrainedLayersFrom(trained, "tiny_lstm.caffemodel");
        Assert.Equal(source.Parameters.SelectMany(p => p.ToArray()), target.Parameters.SelectMany(p => p.ToArray()));
    }
}
