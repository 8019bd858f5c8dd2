using Backprop.Nn;
using Backprop.Onnx;
using Backprop.Onnx.Import;
using Backprop.Onnx.Proto;
using Backprop.Tests.IO;
using Backprop.Tests.Onnx.Export;
using Google.Protobuf;
using static Backprop.Tests.Onnx.Import.OnnxMalformedFileTests;

namespace Backprop.Tests.Onnx.Import;

/// <summary>
/// An imported graph's inference plan: which nodes it fuses (and which it must leave alone), that the fused steps compute
/// the nodes' function (bit for bit what <see cref="Fusion"/>'s folded module computes), and that they follow the
/// weights and statistics as they are now.
/// </summary>
public sealed class OnnxInferencePlanTests
{
    private static OnnxModule ExportedAndImported(Module net, int[] shape, TempDirectory dir)
    {
        string path = dir.File("net.onnx");
        OnnxExporter.Export(net, shape, path);
        var imported = OnnxImporter.Import(path);
        imported.Eval();
        return imported;
    }

    // The nodes as imported (evaluation mode with autograd recording runs them), and the fused plan (under no-grad).
    private static (float[] Nodes, float[] Plan) Both(OnnxModule module, Tensor x)
    {
        float[] nodes = module.Forward(x).ToArray();
        using var noGrad = Autograd.Autograd.NoGrad();
        return (nodes, module.Forward(x).ToArray());
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-5f * Math.Max(1f, Math.Abs(expected[i])), $"{what}: element {i}, {expected[i]} against {actual[i]}");
    }

    [Fact]
    public void AResNetsConvolutionsTakeTheirBatchNormsTheResidualAddsAndReLUs()
    {
        var g = new Generator(21);
        using var dir = new TempDirectory();
        var imported = ExportedAndImported(ExportTestNets.ResNet(g), [3, 16, 16], dir);
        Assert.Equal(
            [
                "Conv+BatchNormalization+Relu",
                // The downsampling block: its 1x1 shortcut first, then its two 3x3 convolutions as one pair, the second
                // taking the Add (the 3x3 has more weights than the shortcut, which also reaches it) and the Relu.
                "Conv+BatchNormalization",
                "Conv+BatchNormalization+Relu+Conv+BatchNormalization+Add+Relu",
                "Conv+BatchNormalization+Relu+Conv+BatchNormalization+Add+Relu",
                "AveragePool", "Flatten", "Gemm",
            ],
            imported.InferenceNodes.Select(n => n.OpType));
        Assert.Equal(22, imported.Nodes.Count);   // the nodes as imported stay as they were
        foreach (int batch in new[] { 1, 3 })   // batch 1 also runs the direct path's kept packing, with the fold inside
        {
            var (nodes, plan) = Both(imported, Tensor.Randn(g, batch, 3, 16, 16));
            AssertClose(nodes, plan, $"batch {batch}: fused against the nodes");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void AFusedVggStackComputesWhatTheFoldedModuleComputesBitForBit(int batch)
    {
        var g = new Generator(22);
        var net = Vgg16Channels(g);
        net.Eval();
        using var dir = new TempDirectory();
        var imported = ExportedAndImported(net, [16, 16, 16], dir);
        var folded = Fusion.FuseConvBatchNorm(net);
        var x = Tensor.Randn(g, batch, 16, 16, 16);
        var (nodes, plan) = Both(imported, x);
        using (Autograd.Autograd.NoGrad()) Assert.Equal(folded.Forward(x).ToArray(), plan);   // the same fold, kept-weight paths and pairs
        AssertClose(nodes, plan, "fused against the nodes");
        Assert.Equal(["Conv+BatchNormalization+Relu+Conv+BatchNormalization+Relu", "Conv+BatchNormalization+Relu", "GlobalAveragePool", "Flatten", "Gemm"],
            imported.InferenceNodes.Select(n => n.OpType));
    }

    // Three 3x3 convolutions of 16 channels (the kept Winograd weights' shapes), each with BatchNorm and ReLU.
    private static Sequential Vgg16Channels(Generator g)
    {
        var net = new Sequential();
        for (int i = 0; i < 3; i++)
        {
            net.Add(new Conv2d(16, 16, 3, padding: 1, bias: i == 1, generator: g));
            net.Add(ExportTestNets.Trained(new BatchNorm2d(16), g));
            net.Add(new Relu());
        }
        net.Add(new AdaptiveAvgPool2d(1));
        net.Add(new Flatten());
        net.Add(new Linear(16, 10, generator: g));
        return net;
    }

    [Fact]
    public void GroupedAndStridedConvolutionsFoldOnThePathWithoutKeptWeights()
    {
        var g = new Generator(28);
        var net = new Sequential(
            new Conv2d(8, 8, 3, stride: 2, padding: 1, groups: 8, bias: false, generator: g), ExportTestNets.Trained(new BatchNorm2d(8), g), new Relu(),
            new Conv2d(8, 12, 1, generator: g), ExportTestNets.Trained(new BatchNorm2d(12), g),
            new Flatten(), new Linear(12 * 5 * 5, 3, generator: g));
        net.Eval();
        using var dir = new TempDirectory();
        var imported = ExportedAndImported(net, [8, 9, 9], dir);
        // Paired in the plan; neither runs kept Winograd weights (groups, stride 2, 1x1), so the pair makes the two calls.
        Assert.Equal(["Conv+BatchNormalization+Relu+Conv+BatchNormalization", "Flatten", "Gemm"], imported.InferenceNodes.Select(n => n.OpType));
        foreach (int batch in new[] { 1, 5 })
        {
            var (nodes, plan) = Both(imported, Tensor.Randn(g, batch, 8, 9, 9));
            AssertClose(nodes, plan, $"depthwise and 1x1, batch {batch}: fused against the nodes");
        }
    }

    [Fact]
    public void TheFoldFollowsWeightsAndStatisticsChangedInPlace()
    {
        var g = new Generator(23);
        using var dir = new TempDirectory();
        var imported = ExportedAndImported(Vgg16Channels(g), [16, 16, 16], dir);
        var x = Tensor.Randn(g, 2, 16, 16, 16);
        var (_, before) = Both(imported, x);
        var buffers = imported.NamedBuffers().Where(b => b.Key.EndsWith("running_var") || b.Key.EndsWith("var")).ToList();
        Assert.NotEmpty(buffers);
        buffers[0].Value.AsSpan()[3] *= 4f;   // a running variance changed in place
        var (nodes, plan) = Both(imported, x);
        Assert.NotEqual(before, plan);
        AssertClose(nodes, plan, "after a running variance changed");
        imported.Parameters().First(p => p.Rank == 4).AsSpan()[7] += 0.25f;   // a convolution weight changed in place
        var (nodes2, plan2) = Both(imported, x);
        Assert.NotEqual(plan, plan2);
        AssertClose(nodes2, plan2, "after a weight changed");
    }

    [Fact]
    public void TrainingModeRunsTheNodesAsImported()
    {
        var g = new Generator(24);
        using var dir = new TempDirectory();
        var imported = ExportedAndImported(Vgg16Channels(g), [16, 16, 16], dir);
        var x = Tensor.Randn(g, 4, 16, 16, 16);
        imported.Train();
        using var noGrad = Autograd.Autograd.NoGrad();
        var training = imported.Forward(x).ToArray();   // batch statistics: nothing folded
        var nodes = imported.Forward(new Dictionary<string, Tensor> { [imported.InputNames[0]] = x }, (_, _) => { })[imported.OutputNames[0]].ToArray();
        Assert.Equal(nodes, training);
        imported.Eval();
        Assert.NotEqual(training, imported.Forward(x).ToArray());
    }

    // x → Conv (w, 4 filters of 2x3x3, with convAttributes) → BatchNormalization → b, then the given nodes; the
    // initializers include k, one value per channel, (1, 4, 1, 1).
    private static OnnxModule ConvNorm(TempDirectory dir, Generator g, string[] outputs, NodeProto[] after, params AttributeProto[] convAttributes)
    {
        var graph = new GraphProto();
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        foreach (var o in outputs) graph.Output.Add(new ValueInfoProto { Name = o });
        var conv = Node("conv", "Conv", ["x", "w"], ["c"]);
        conv.Attribute.AddRange(convAttributes);
        graph.Node.Add(conv);
        graph.Node.Add(Node("bn", "BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["b"]));
        graph.Node.AddRange(after);
        float[] Values(int n, float low, float high) => Tensor.Uniform(g, low, high, n).ToArray();
        graph.Initializer.Add(FloatTensor("w", [4, 2, 3, 3], Values(72, -1f, 1f)));
        graph.Initializer.Add(FloatTensor("gamma", [4], Values(4, 0.5f, 1.5f)));
        graph.Initializer.Add(FloatTensor("beta", [4], Values(4, -0.5f, 0.5f)));
        graph.Initializer.Add(FloatTensor("mean", [4], Values(4, -0.5f, 0.5f)));
        graph.Initializer.Add(FloatTensor("var", [4], Values(4, 0.5f, 2f)));
        graph.Initializer.Add(FloatTensor("k", [1, 4, 1, 1], Values(4, -1f, 1f)));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
        string path = dir.File($"m{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        var module = OnnxImporter.Import(path);
        module.Eval();
        return module;
    }

    private static readonly NodeProto[] ThenRelu = [Node("relu", "Relu", ["b"], ["y"])];

    [Fact]
    public void AValueTheGraphOutputsOrAnotherNodeReadsIsNotFusedAway()
    {
        var g = new Generator(25);
        using var dir = new TempDirectory();
        var x = Tensor.Randn(g, 1, 2, 6, 6);
        var asOutput = ConvNorm(dir, g, ["y", "c"], ThenRelu);   // the convolution's own output is a graph output
        Assert.Equal(["Conv", "BatchNormalization", "Relu"], asOutput.InferenceNodes.Select(n => n.OpType));
        var readTwice = ConvNorm(dir, g, ["y", "z"], [.. ThenRelu, Node("other", "Mul", ["b", "b"], ["z"])]);   // the norm's output read twice
        Assert.Equal(["Conv+BatchNormalization", "Relu", "Mul"], readTwice.InferenceNodes.Select(n => n.OpType));
        using var noGrad = Autograd.Autograd.NoGrad();
        var outputs = readTwice.Forward(new Dictionary<string, Tensor> { ["x"] = x });
        var y = outputs["y"].ToArray();
        var z = outputs["z"].ToArray();
        for (int i = 0; i < y.Length; i++) Assert.True(z[i] >= 0f && (y[i] == 0f || Math.Abs(y[i] * y[i] - z[i]) <= 1e-5f * Math.Max(1f, z[i])));
    }

    [Fact]
    public void AStrideTwoSameUpperConvolutionFusesWithItsUnevenPads()
    {
        var g = new Generator(26);
        using var dir = new TempDirectory();
        var module = ConvNorm(dir, g, ["y"], ThenRelu, new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("SAME_UPPER") },
            new AttributeProto { Name = "strides", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        Assert.Equal(["Conv+BatchNormalization+Relu"], module.InferenceNodes.Select(n => n.OpType));
        var x = Tensor.Randn(g, 2, 2, 6, 6);   // SAME_UPPER, stride 2 on 6: pads 0 before, 1 after
        var (nodes, plan) = Both(module, x);
        Assert.Equal(2 * 4 * 3 * 3, plan.Length);
        AssertClose(nodes, plan, "fused against the nodes");
    }

    [Fact]
    public void AnAddThatBroadcastsIsFusedAndStillBroadcasts()
    {
        var g = new Generator(27);
        using var dir = new TempDirectory();
        // The residual k has one value per channel, not the output's shape: the Add broadcasts it.
        var module = ConvNorm(dir, g, ["y"], [Node("add", "Add", ["k", "b"], ["s"]), Node("relu", "Relu", ["s"], ["y"])]);
        Assert.Equal(["Conv+BatchNormalization+Add+Relu"], module.InferenceNodes.Select(n => n.OpType));
        var (nodes, plan) = Both(module, Tensor.Randn(g, 2, 2, 6, 6));
        AssertClose(nodes, plan, "fused against the nodes");
    }
}
