using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>Builds Caffe nets in the TEST phase and holds an exported file against Backprop's own forward pass in ONNX Runtime.</summary>
internal static class CaffeOnnxCheck
{
    public static CaffeNet Build(string prototxt, ulong seed = 1, NetContext? context = null) =>
        CaffeNet.Build(Prototxt.Parse<NetParameter>(prototxt, "test.prototxt"), new NetState { Phase = Phase.Test }, new Generator(seed),
            context ?? new NetContext(Phase.Test, seed));

    /// <summary>
    /// Runs <paramref name="net"/> forward (Input layers fed from <paramref name="inputs"/>), feeds ONNX Runtime the blobs
    /// named by the file's inputs, and compares every output of the file with the blob of the same name within
    /// <see cref="OnnxRuntimeCheck.Tolerance"/>. Returns the output names.
    /// </summary>
    public static IReadOnlyList<string> AssertMatches(CaffeNet net, string onnxPath, IReadOnlyDictionary<string, Tensor> inputs,
        ITestOutputHelper? log = null, string what = "")
    {
        var context = new NetContext(Phase.Test);
        foreach (var (name, value) in inputs) context.Inputs[name] = value;
        NetResult result;
        using (Autograd.Autograd.NoGrad()) result = net.Forward(context);
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(onnxPath, options);
        var feeds = session.InputMetadata.Keys.Select(name =>
        {
            var blob = result.Blobs[name];
            return NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(blob.ToArray(), blob.Shape.ToArray()));
        }).ToList();
        using var outputs = session.Run(feeds);
        foreach (var output in outputs)
        {
            var actual = output.AsTensor<float>();
            var expected = result.Blobs[output.Name];
            Assert.Equal(expected.Shape.ToArray(), actual.Dimensions.ToArray());
            float[] reference = expected.ToArray(), values = actual.ToArray();
            double maxDiff = 0;
            for (int i = 0; i < reference.Length; i++)
            {
                double diff = Math.Abs(values[i] - reference[i]);
                double scale = Math.Max(1, Math.Max(Math.Abs(values[i]), Math.Abs(reference[i])));
                Assert.True(diff <= OnnxRuntimeCheck.Tolerance * scale,
                    $"{what} {output.Name}[{i}] of {expected.Shape}: ONNX Runtime {values[i]} vs Backprop {reference[i]} (diff {diff:g3})");
                maxDiff = Math.Max(maxDiff, diff);
            }
            log?.WriteLine($"{what} {output.Name} {expected.Shape} OK, max diff {maxDiff:g3}");
        }
        return outputs.Select(o => o.Name).ToList();
    }

    /// <summary>Fills every parameter blob with values drawn from <paramref name="g"/> (BatchNorm's statistics stay positive where they must).</summary>
    public static void Randomize(CaffeNet net, Generator g)
    {
        foreach (var layer in net.Layers)
            for (int b = 0; b < layer.Blobs.Count; b++)
            {
                var span = layer.Blobs[b].AsSpan();
                var random = Tensor.Randn(g, span.Length).AsSpan();
                for (int i = 0; i < span.Length; i++)
                    span[i] = layer.Type == "BatchNorm" && b == 1 ? 0.5f + Math.Abs(random[i]) * 3     // variance sums
                        : layer.Type == "BatchNorm" && b == 2 ? 4f                                     // the scale factor divides both
                        : layer.Type == "Scale" && b == 0 ? 1 + 0.5f * random[i]
                        : 0.5f * random[i];
            }
    }
}
