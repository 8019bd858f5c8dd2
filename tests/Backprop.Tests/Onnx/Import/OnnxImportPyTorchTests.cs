using Backprop.Onnx.Import;
using Backprop.Optim;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Import;

/// <summary>Files written by PyTorch 1.13's torch.onnx.export import, run to PyTorch's outputs and fine-tune.</summary>
public class OnnxImportPyTorchTests(ITestOutputHelper output)
{
    /// <summary>The three nets of the issue, and two files of attribute variants exported at opset 9 and 13.</summary>
    [Theory]
    [InlineData("lenet")]
    [InlineData("resnet")]
    [InlineData("upnet")]
    [InlineData("variants9")]
    [InlineData("variants13")]
    [InlineData("lenet_view")]
    public void Imported_net_matches_pytorch_output(string name)
    {
        var module = OnnxImporter.Import(OnnxImportFixtures.Model(name));
        module.Eval();
        var (input, expected) = OnnxImportFixtures.InputOutputs(name);
        var actual = module.Forward(new Dictionary<string, Tensor> { [module.InputNames.Single()] = input });
        Assert.Equal(expected.Count, module.OutputNames.Count);
        for (int o = 0; o < expected.Count; o++)
        {
            var y = actual[module.OutputNames[o]];
            Assert.Equal(expected[o].Shape, y.Shape);
            float[] e = expected[o].ToArray(), a = y.ToArray();
            double worst = 0;
            for (int i = 0; i < e.Length; i++)
            {
                double diff = Math.Abs(e[i] - a[i]) / Math.Max(1.0, Math.Abs(e[i]));
                worst = Math.Max(worst, diff);
                Assert.True(diff <= 1e-4, $"{name}: {module.OutputNames[o]}[{i}] is {a[i]}, PyTorch gave {e[i]}.");
            }
            output.WriteLine($"{name} {module.OutputNames[o]}: {e.Length} values OK, max relative diff {worst:E1}");
        }
    }

    [Fact]
    public void Weights_are_trainable_parameters_named_after_the_initializers()
    {
        var module = OnnxImporter.Import(OnnxImportFixtures.Model("resnet"));
        var names = module.NamedParameters().Select(p => p.Key).ToList();
        Assert.Contains("layer2.down.0.weight", names);
        Assert.Contains("fc.bias", names);
        Assert.Contains("stem.1.weight", names);   // BatchNorm scale is learned
        Assert.All(module.Parameters(), p => Assert.True(p.RequiresGrad));
        var buffers = module.NamedBuffers().Select(b => b.Key).ToList();
        Assert.Contains("stem.1.running_mean", buffers);
        Assert.DoesNotContain("stem.1.running_mean", names);
    }

    [Theory]
    [InlineData("lenet")]
    [InlineData("resnet")]
    [InlineData("upnet")]
    [InlineData("variants13")]
    [InlineData("lenet_view")]
    public void A_few_sgd_steps_lower_the_loss(string name)
    {
        var module = OnnxImporter.Import(OnnxImportFixtures.Model(name));
        module.Eval();   // BatchNorm keeps its imported statistics; the weights still learn
        var (input, _) = OnnxImportFixtures.InputOutputs(name);
        var target = Tensor.Randn(new Generator(7), module.Forward(input).Shape.ToArray());
        var sgd = new Sgd(module.Parameters(), learningRate: 0.01f);
        float first = 0, last = 0;
        for (int step = 0; step < 5; step++)
        {
            module.ZeroGrad();
            var loss = Functional.MseLoss(module.Forward(input), target);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            loss.Backward();
            sgd.Step();
        }
        output.WriteLine($"{name}: loss {first} -> {last}");
        Assert.True(last < first, $"{name}: loss went from {first} to {last}.");
    }

    // x.view(x.size(0), -1) exported with a dynamic batch: the target shape is computed from each input's batch, so the
    // file made at batch 3 runs at 1 and 7 (PyTorch's rows, since each image's output depends on it alone).
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void Shape_arithmetic_keeps_the_batch_dynamic(int batch)
    {
        var module = OnnxImporter.Import(OnnxImportFixtures.Model("lenet_view"));
        module.Eval();
        var ops = module.Nodes.Select(n => n.OpType).ToList();
        Assert.Contains("Shape", ops);
        Assert.Contains("Gather", ops);
        Assert.Contains("Concat", ops);
        var (input, expected) = OnnxImportFixtures.InputOutputs("lenet_view");
        int fixtureBatch = input.Shape[0], classes = expected[0].Shape[1];
        int[] rows = [.. Enumerable.Range(0, batch).Select(i => i % fixtureBatch)];
        var y = module.Forward(input.IndexSelect(0, rows));
        Assert.Equal(new Shape(batch, classes), y.Shape);
        for (int r = 0; r < batch; r++)
            for (int k = 0; k < classes; k++)
            {
                float e = expected[0][rows[r], k], a = y[r, k];
                Assert.True(Math.Abs(e - a) <= 1e-4 * Math.Max(1, Math.Abs(e)), $"batch {batch}: row {r} class {k} is {a}, PyTorch gave {e}.");
            }
    }
}
