using Backprop.Nn;
using Backprop.Onnx;
using Backprop.Onnx.Import;
using Backprop.Optim;
using Backprop.Tests.IO;
using Backprop.Tests.Onnx.Export;

namespace Backprop.Tests.Onnx;

/// <summary>
/// Export then import: the imported module computes what the exported one computed, its weights arrive as trainable
/// parameters under the exported names, and it goes on learning.
/// </summary>
public class OnnxRoundTripTests
{
    public static TheoryData<string> Nets => ["lenet", "vgg", "resnet"];

    private static (Sequential Net, int[] Shape) Build(string name, Generator g) => name switch
    {
        "lenet" => (ExportTestNets.LeNet(g), [1, 28, 28]),
        "vgg" => (ExportTestNets.Vgg(g), [3, 16, 16]),
        "resnet" => (ExportTestNets.ResNet(g), [3, 16, 16]),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Nets))]
    public void ImportedModuleComputesWhatTheExportedOneComputed(string name)
    {
        var g = new Generator(11);
        var (net, shape) = Build(name, g);
        net.Eval();
        using var dir = new TempDirectory();
        var imported = ExportedAndImported(net, shape, dir, name);
        imported.Eval();

        var x = Tensor.Randn(g, [3, .. shape]);
        float[] expected, actual;
        using (Autograd.Autograd.NoGrad())
        {
            expected = net.Forward(x).ToArray();
            actual = imported.Forward(x).ToArray();
        }
        Assert.Equal(expected.Length, actual.Length);
        // Same kernels on both sides, but the exporter writes Linear as Gemm and BatchNorm as its own node where the
        // core module may fuse it with ReLU: allow float rounding, nothing more.
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i])),
                $"{name} output {i}: exported {expected[i]}, imported {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Nets))]
    public void UnderNoGradEachValueGoesBackToThePoolAfterItsLastReader(string name)
    {
        var g = new Generator(14);
        var (net, shape) = Build(name, g);
        net.Eval();
        using var dir = new TempDirectory();
        var imported = ExportedAndImported(net, shape, dir, name);
        imported.Eval();
        var x = Tensor.Randn(g, [2, .. shape]);
        float[] expected;
        using (Autograd.Autograd.NoGrad()) expected = imported.Forward(x).ToArray();

        long recorded, released;
        var pool = new TensorMemoryPool();
        // Autograd records: nothing released, and the nodes run as imported (no BatchNorm folded), so equal up to rounding.
        using (pool.Scope()) AssertClose(expected, imported.Forward(x).ToArray(), $"{name}, recorded against no-grad");
        recorded = pool.BytesHeld;
        pool = new TensorMemoryPool();
        using (Autograd.Autograd.NoGrad())
        using (pool.Scope())
        {
            // Twice in one scope: the second pass runs on memory the first gave back; views (Flatten, Reshape) and the
            // residual Add's twice-read values must come through intact.
            Assert.Equal(expected, imported.Forward(x).ToArray());
            Assert.Equal(expected, imported.Forward(x).ToArray());
        }
        released = pool.BytesHeld;
        Assert.True(released < recorded, $"{name}: {released} bytes held after two released passes, {recorded} after one recorded");
    }

    [Fact]
    public void AnImportedConvKeepsItsWinogradWeightsInEvaluationAndSeesThemChange()
    {
        var g = new Generator(15);
        var net = new Sequential(new Conv2d(16, 16, 3, padding: 1, generator: g), new Relu(), new Conv2d(16, 16, 3, padding: 1, generator: g));
        net.Eval();
        using var dir = new TempDirectory();
        var imported = ExportedAndImported(net, [16, 16, 16], dir, "pair");
        imported.Eval();
        var x = Tensor.Randn(g, 2, 16, 16, 16);
        var geometry = new Backprop.Kernels.Conv2dGeometry(2, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        bool kept = Backprop.Kernels.WinogradWeightCache.Applies(geometry);
        using var noGrad = Autograd.Autograd.NoGrad();
        float[] Uncached()
        {
            bool enabled = Backprop.Kernels.WinogradWeightCache.Enabled;
            Backprop.Kernels.WinogradWeightCache.Enabled = false;
            try { return imported.Forward(x).ToArray(); }
            finally { Backprop.Kernels.WinogradWeightCache.Enabled = enabled; }
        }
        var before = imported.Forward(x).ToArray();
        Assert.Equal(net.Forward(x).ToArray(), before);   // the same kept-weight Winograd arithmetic as the module's
        AssertClose(Uncached(), before, "kept weights against no kept weights");
        if (kept) Assert.NotEqual(Uncached(), before);   // which the path without kept weights rounds otherwise
        imported.Parameters().First(p => p.Rank == 4).AsSpan()[5] += 0.5f;   // fine-tuned in place
        var after = imported.Forward(x).ToArray();
        Assert.NotEqual(before, after);
        AssertClose(Uncached(), after, "after the weight changed in place");
    }

    private static OnnxModule ExportedAndImported(Module net, int[] shape, TempDirectory dir, string name)
    {
        string path = dir.File(name + ".onnx");
        OnnxExporter.Export(net, shape, path);
        return OnnxImporter.Import(path);
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * Math.Max(1f, Math.Abs(expected[i])), $"{what}: element {i}, {expected[i]} against {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Nets))]
    public void WeightsComeBackAsTrainableParametersUnderTheirNames(string name)
    {
        var (net, shape) = Build(name, new Generator(12));
        using var dir = new TempDirectory();
        string path = dir.File(name + ".onnx");
        OnnxExporter.Export(net, shape, path);
        var imported = OnnxImporter.Import(path);

        var exported = net.NamedParameters().ToDictionary(p => p.Key, p => p.Value.ToArray());
        var back = imported.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(exported.Keys.Order(), back.Keys.Order());
        foreach (var (key, values) in exported)
        {
            Assert.True(back[key].RequiresGrad, key);
            Assert.Equal(values, back[key].ToArray());
        }
    }

    [Fact]
    public void ImportedLeNetKeepsLearning()
    {
        var g = new Generator(13);
        var (net, shape) = Build("lenet", g);
        using var dir = new TempDirectory();
        string path = dir.File("lenet.onnx");
        OnnxExporter.Export(net, shape, path);
        var imported = OnnxImporter.Import(path);
        imported.Train();

        var x = Tensor.Randn(g, 16, 1, 28, 28);
        var labels = Enumerable.Range(0, 16).Select(i => i % 10).ToArray();
        var optimizer = new Sgd(imported.Parameters(), learningRate: 0.02f, momentum: 0.9f);
        float first = 0, last = 0;
        for (int step = 0; step < 15; step++)
        {
            optimizer.ZeroGrad();
            // The exported LeNet ends in LogSoftmax; log-softmax of log-probabilities changes nothing, so cross-entropy
            // here is the negative log-likelihood of the labels.
            var loss = Functional.CrossEntropy(imported.Forward(x), labels);
            loss.Backward();
            optimizer.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < first * 0.8f, $"loss went from {first} to {last}");
    }
}
