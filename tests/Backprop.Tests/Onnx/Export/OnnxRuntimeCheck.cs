using Backprop.Nn;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>Runs an .onnx file in ONNX Runtime and holds its output against Backprop's evaluation-mode forward.</summary>
internal static class OnnxRuntimeCheck
{
    /// <summary>The relative tolerance of every comparison: |ort − backprop| ≤ 1e-4 · max(|ort|, |backprop|, 1).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>ONNX Runtime's output for <paramref name="input"/> (the model's single input and output) and its shape.</summary>
    public static (float[] Values, int[] Shape) Run(string onnxPath, Tensor input)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(onnxPath, options);
        var dense = new DenseTensor<float>(input.ToArray(), input.Shape.ToArray());
        string inputName = session.InputMetadata.Keys.Single();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, dense)]);
        var output = results.Single().AsTensor<float>();
        return (output.ToArray(), output.Dimensions.ToArray());
    }

    /// <summary>
    /// Asserts ONNX Runtime computes <paramref name="model"/>'s function (in evaluation mode) on <paramref name="input"/>;
    /// logs the largest difference seen.
    /// </summary>
    public static void AssertMatches(Module model, string onnxPath, Tensor input, ITestOutputHelper? log = null, string what = "")
    {
        model.Eval();
        var expected = model.Forward(input);
        var (actual, shape) = Run(onnxPath, input);
        Assert.Equal(expected.Shape.ToArray(), shape);
        float[] reference = expected.ToArray();
        double maxDiff = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double diff = Math.Abs(actual[i] - reference[i]);
            double scale = Math.Max(1, Math.Max(Math.Abs(actual[i]), Math.Abs(reference[i])));
            Assert.True(diff <= Tolerance * scale,
                $"{what} output[{i}] of {expected.Shape}: ONNX Runtime {actual[i]} vs Backprop {reference[i]} (diff {diff:g3})");
            maxDiff = Math.Max(maxDiff, diff);
        }
        log?.WriteLine($"{what} {expected.Shape} OK, max diff {maxDiff:g3}");
    }
}
