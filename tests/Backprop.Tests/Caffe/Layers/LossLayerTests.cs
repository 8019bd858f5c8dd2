using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.Caffe.Net;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>Caffe's loss layers through nets: normalization modes, loss_weight, the FLT_MIN floor, per-class accuracy, automatic tops.</summary>
public class LossLayerTests
{
    private static NetResult Run(string layers, Dictionary<string, Tensor> inputs, out CaffeNet net)
    {
        net = NetBuilderTests.Build(layers);
        var context = new NetContext(Phase.Train, 1);
        foreach (var (k, v) in inputs) context.Inputs[k] = v;
        return net.Forward(context);
    }

    private static string Inputs(params (string Name, int[] Dims)[] blobs) =>
        string.Concat(blobs.Select(b => $"layer {{ name: \"in_{b.Name}\" type: \"Input\" top: \"{b.Name}\" input_param {{ shape {{ {string.Concat(b.Dims.Select(d => $"dim: {d} "))}}} }} }}\n"));

    [Fact]
    public void SoftmaxWithLossCapsEachPositionAtMinusLogFltMin()
    {
        // Row 0 puts e^-200 on its label (0 in float): Caffe counts 87.3365, not 200. Row 1: scores [0, 0], loss log 2.
        var result = Run(Inputs(("s", [2, 2]), ("l", [2])) + """layer { name: "loss" type: "SoftmaxWithLoss" bottom: "s" bottom: "l" top: "loss" }""",
            new() { ["s"] = Tensor.FromArray([0f, 200f, 0f, 0f], 2, 2), ["l"] = Tensor.FromArray([0f, 1f], 2) }, out _);
        Assert.Equal((87.336544f + MathF.Log(2)) / 2, result.Loss!.Item(), 4);
    }

    [Theory]
    [InlineData("VALID", 3)]
    [InlineData("FULL", 4)]
    [InlineData("BATCH_SIZE", 2)]
    [InlineData("NONE", 1)]
    public void SoftmaxWithLossNormalizations(string mode, int divisor)
    {
        // Scores (2, 2, 1, 2): all zero, so each counted position costs log 2; one of four labels is ignored.
        var result = Run(Inputs(("s", [2, 2, 1, 2]), ("l", [2, 1, 2])) +
            $$"""layer { name: "loss" type: "SoftmaxWithLoss" bottom: "s" bottom: "l" top: "loss" loss_weight: 2 loss_param { ignore_label: 5 normalization: {{mode}} } }""",
            new() { ["s"] = Tensor.Zeros(2, 2, 1, 2), ["l"] = Tensor.FromArray([0f, 5f, 1f, 1f], 2, 1, 2) }, out _);
        Assert.Equal(2 * 3 * MathF.Log(2) / divisor, result.Loss!.Item(), 5);
    }

    [Fact]
    public void SigmoidCrossEntropyNormalizesByBatchSizeByDefault()
    {
        // Two rows of [0, 0] logits: four terms of log 2, divided by N = 2.
        var result = Run(Inputs(("s", [2, 2]), ("t", [2, 2])) + """layer { name: "loss" type: "SigmoidCrossEntropyLoss" bottom: "s" bottom: "t" top: "loss" }""",
            new() { ["s"] = Tensor.Zeros(2, 2), ["t"] = Tensor.FromArray([1f, 0f, 0f, 1f], 2, 2) }, out _);
        Assert.Equal(2 * MathF.Log(2), result.Loss!.Item(), 5);
        var valid = Run(Inputs(("s", [2, 2]), ("t", [2, 2])) +
            """layer { name: "loss" type: "SigmoidCrossEntropyLoss" bottom: "s" bottom: "t" top: "loss" loss_param { ignore_label: -1 normalization: VALID } }""",
            new() { ["s"] = Tensor.Zeros(2, 2), ["t"] = Tensor.FromArray([1f, -1f, 0f, 1f], 2, 2) }, out _);
        Assert.Equal(MathF.Log(2), valid.Loss!.Item(), 5);
    }

    [Fact]
    public void ContrastiveHingeMultinomialLayers()
    {
        var contrastive = Run(Inputs(("a", [2, 2, 1, 1]), ("b", [2, 2, 1, 1]), ("y", [2])) +
            """layer { name: "loss" type: "ContrastiveLoss" bottom: "a" bottom: "b" bottom: "y" top: "loss" contrastive_loss_param { margin: 6 } }""",
            new() { ["a"] = Tensor.FromArray([1f, 0f, 3f, 4f], 2, 2, 1, 1), ["b"] = Tensor.Zeros(2, 2, 1, 1), ["y"] = Tensor.FromArray([1f, 0f], 2) }, out _);
        Assert.Equal(0.5f, contrastive.Loss!.Item(), 5);   // (1 + 1) / (2·2)
        var hinge = Run(Inputs(("s", [2, 3]), ("l", [2])) +
            """layer { name: "loss" type: "HingeLoss" bottom: "s" bottom: "l" top: "loss" hinge_loss_param { norm: L2 } }""",
            new() { ["s"] = Tensor.FromArray([1f, -1f, 0.5f, 2f, 0f, 0f], 2, 3), ["l"] = Tensor.FromArray([0f, 0f], 2) }, out _);
        Assert.Equal((2.25f + 2f) / 2, hinge.Loss!.Item(), 5);   // row 1: [0, 1, 1]
        var multinomial = Run(Inputs(("p", [2, 2]), ("l", [2])) +
            """layer { name: "loss" type: "MultinomialLogisticLoss" bottom: "p" bottom: "l" top: "loss" }""",
            new() { ["p"] = Tensor.FromArray([0.25f, 0.75f, 0.5f, 0.5f], 2, 2), ["l"] = Tensor.FromArray([0f, 1f], 2) }, out _);
        Assert.Equal((MathF.Log(4) + MathF.Log(2)) / 2, multinomial.Loss!.Item(), 5);
    }

    [Fact]
    public void InfogainMatrixFromBottomOrBinaryprotoFile()
    {
        var h = new[] { 1f, 0.5f, 0f, 1f };
        var fromBottom = Run(Inputs(("s", [1, 2]), ("l", [1]), ("h", [1, 1, 2, 2])) +
            """layer { name: "loss" type: "InfogainLoss" bottom: "s" bottom: "l" bottom: "h" top: "loss" }""",
            new() { ["s"] = Tensor.Zeros(1, 2), ["l"] = Tensor.FromArray([0f], 1), ["h"] = Tensor.FromArray(h, 1, 1, 2, 2) }, out _);
        Assert.Equal(1.5f * MathF.Log(2), fromBottom.Loss!.Item(), 5);

        string dir = Directory.CreateTempSubdirectory("infogain").FullName;
        try
        {
            string path = Path.Combine(dir, "H.binaryproto");
            var blob = new BlobProto { Num = 1, Channels = 1, Height = 2, Width = 2 };
            blob.Data.Add(h);
            File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(blob));
            var fromFile = Run(Inputs(("s", [1, 2]), ("l", [1])) +
                $$"""layer { name: "loss" type: "InfogainLoss" bottom: "s" bottom: "l" top: "loss" infogain_loss_param { source: "{{path}}" } }""",
                new() { ["s"] = Tensor.Zeros(1, 2), ["l"] = Tensor.FromArray([0f], 1) }, out _);
            Assert.Equal(1.5f * MathF.Log(2), fromFile.Loss!.Item(), 5);

            File.WriteAllBytes(path, [0x0a, 0xff, 0xff]);   // a truncated message
            var e = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build(Inputs(("s", [1, 2]), ("l", [1])) +
                $$"""layer { name: "loss" type: "InfogainLoss" bottom: "s" bottom: "l" top: "loss" infogain_loss_param { source: "{{path}}" } }"""));
            Assert.Contains(path, e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AccuracyPerClassSecondTopAndIgnoreLabel()
    {
        // Predictions 0, 2, 1, 1 for labels 0, 1, 1, 9 (9 ignored): 2 of 3 right; class 0: 1/1, class 1: 1/2, class 2: none.
        var result = Run(Inputs(("s", [4, 3]), ("l", [4])) +
            """layer { name: "acc" type: "Accuracy" bottom: "s" bottom: "l" top: "acc" top: "per_class" accuracy_param { ignore_label: 9 } }""",
            new()
            {
                ["s"] = Tensor.FromArray([5f, 1f, 0f, 0f, 1f, 3f, 0f, 2f, 1f, 0f, 4f, 1f], 4, 3),
                ["l"] = Tensor.FromArray([0f, 1f, 1f, 9f], 4),
            }, out _);
        Assert.Equal(2f / 3, result.Blobs["acc"].Item(), 6);
        Assert.Equal([1f, 0.5f, 0f], result.Blobs["per_class"].ToArray());
    }

    [Fact]
    public void AccuracyAlongAnotherAxis()
    {
        // Scores (1, 2, 3) with classes on axis 2: row 0 argmax 2, row 1 argmax 0.
        var result = Run(Inputs(("s", [1, 2, 3]), ("l", [1, 2])) +
            """layer { name: "acc" type: "Accuracy" bottom: "s" bottom: "l" top: "acc" accuracy_param { axis: 2 } }""",
            new() { ["s"] = Tensor.FromArray([0f, 1f, 2f, 3f, 1f, 0f], 1, 2, 3), ["l"] = Tensor.FromArray([2f, 1f], 1, 2) }, out _);
        Assert.Equal(0.5f, result.Blobs["acc"].Item());
    }

    [Fact]
    public void LossLayerWithoutTopGetsAnAutomaticOne()
    {
        var result = Run(Inputs(("s", [1, 2]), ("l", [1])) + """layer { name: "loss" type: "SoftmaxWithLoss" bottom: "s" bottom: "l" }""",
            new() { ["s"] = Tensor.Zeros(1, 2), ["l"] = Tensor.FromArray([1f], 1) }, out var net);
        Assert.Equal(MathF.Log(2), result.Loss!.Item(), 6);
        Assert.DoesNotContain(CaffeNet.AutomaticTop, net.OutputNames);
        Assert.DoesNotContain(CaffeNet.AutomaticTop, net.BlobShapes.Keys);
        // No other layer can take it as a bottom.
        var e = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build(Inputs(("s", [1, 2]), ("l", [1])) +
            """layer { name: "loss" type: "SoftmaxWithLoss" bottom: "s" bottom: "l" } layer { name: "x" type: "Flatten" bottom: "(automatic)" top: "y" }"""));
        Assert.Contains("unknown bottom blob '(automatic)'", e.Message);
    }
}
