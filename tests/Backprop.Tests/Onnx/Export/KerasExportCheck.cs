using Backprop.Keras;
using Backprop.Onnx;
using Backprop.Tests.IO;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>Exports a Keras model and holds ONNX Runtime's output against <c>Predict</c> on the same channels-last input.</summary>
internal static class KerasExportCheck
{
    /// <summary>
    /// Exports <paramref name="export"/>'s model, then for each batch size runs ONNX Runtime on random (N, Keras input
    /// shape...) values and asserts it matches <paramref name="predict"/> within <see cref="OnnxRuntimeCheck.Tolerance"/>.
    /// </summary>
    public static void AssertMatches(Action<string> export, Func<Tensor, Tensor> predict, KerasShape inputShape, ITestOutputHelper log,
        string what, params int[] batchSizes)
    {
        using var dir = new TempDirectory();
        string path = dir.File("keras.onnx");
        export(path);
        var g = new Generator(99);
        foreach (int n in batchSizes.Length == 0 ? [1, 4] : batchSizes)
        {
            var x = Tensor.Randn(g, [n, .. inputShape.ToArray()]);
            AssertClose(predict(x), OnnxRuntimeCheck.Run(path, x), log, $"{what} batch {n}");
        }
    }

    public static void AssertClose(Tensor expected, (float[] Values, int[] Shape) actual, ITestOutputHelper log, string what)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape);
        float[] reference = expected.ToArray();
        double maxDiff = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double diff = Math.Abs(actual.Values[i] - reference[i]);
            double scale = Math.Max(1, Math.Max(Math.Abs(actual.Values[i]), Math.Abs(reference[i])));
            Assert.True(diff <= OnnxRuntimeCheck.Tolerance * scale,
                $"{what} output[{i}] of {expected.Shape}: ONNX Runtime {actual.Values[i]} vs Predict {reference[i]} (diff {diff:g3})");
            maxDiff = Math.Max(maxDiff, diff);
        }
        log.WriteLine($"{what} {expected.Shape} OK, max diff {maxDiff:g3}");
    }
}
