using Backprop.Kernels;
using Backprop.Tests.Kernels;

namespace Backprop.Tests.FunctionalOps;

/// <summary>
/// A convolution with a BatchNorm folded into its kept weights (<see cref="Backprop.Functional.Conv2dInference"/>, as an
/// imported ONNX graph's inference plan runs Conv+BatchNormalization): the same bits as the convolution of the folded
/// weights (<see cref="BatchNormFold"/>) on every path (the kept Winograd transform, the batch-1 direct packing, and the
/// shapes neither keeps), with and without a residual, and a changed scale is seen.
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionInferenceTests
{
    public static TheoryData<string, int, int, int, int, int, int> Shapes => new()
    {
        // the kept weights that run, batch, in channels, size, out channels, kernel, stride
        { "Winograd", 2, 16, 16, 16, 3, 1 },   // 16 channels, 3x3
        { "direct", 1, 16, 16, 32, 3, 2 },     // batch 1, stride 2
        { "neither", 2, 16, 16, 32, 3, 2 },    // batch 2, stride 2
        { "neither", 2, 8, 8, 16, 1, 1 },      // 1x1: a product per pixel
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AFoldedScaleGivesTheBitsOfTheFoldedWeights(string name, int n, int c, int size, int k, int kernel, int stride)
    {
        var g = new Generator(31);
        var x = Tensor.Randn(g, n, c, size, size);
        var w = Tensor.Randn(g, k, c, kernel, kernel) * 0.2f;
        int pad = kernel / 2, outSize = (size + 2 * pad - kernel) / stride + 1;
        var residual = Tensor.Randn(g, n, k, outSize, outSize);
        var geometry = new Conv2dGeometry(n, c, size, size, k, kernel, kernel, stride, stride, pad, pad, 1, 1, 1);
        Assert.Equal(name, WinogradWeightCache.Applies(geometry) ? "Winograd" : DirectWeightCache.Applies(geometry) ? "direct" : "neither");
        foreach (var scaleSeed in new[] { 32, 33 })
        {
            var scale = Tensor.Uniform(new Generator((ulong)scaleSeed), 0.3f, 2f, k).ToArray().Select(v => (double)v).ToArray();
            var bias = Tensor.Randn(new Generator((ulong)scaleSeed + 10), k);
            var folded = Tensor.Zeros(w.Shape.ToArray());
            BatchNormFold.Weights(w.Data, scale, folded.AsSpan());
            var cache = new WinogradWeightCache();   // one cache through both scales: the second must be seen
            using var noGrad = Autograd.Autograd.NoGrad();
            foreach (var (relu, r) in new[] { (false, (Tensor?)null), (true, null), (true, residual) })
            {
                var expected = Backprop.Functional.Conv2d(x, folded, bias, (stride, stride), (pad, pad), (1, 1), 1, relu, new WinogradWeightCache(), r);
                var layer = new InferenceConvolution(w, bias, scale, (stride, stride), (pad, pad), (1, 1), 1, cache);
                var actual = Backprop.Functional.Conv2dInference(x, layer, relu, r);
                KernelTestUtil.AssertBitIdentical(expected.ToArray(), actual.ToArray(), $"{name}, scale {scaleSeed}, relu {relu}, residual {r is not null}");
            }
        }
    }

    [Fact]
    public void ItRecordsNoGraphSoItRefusesToRunWhileAutogradRecords()
    {
        var layer = new InferenceConvolution(Tensor.Ones(2, 2, 3, 3), null, [1.0, 1.0], (1, 1), (1, 1), (1, 1), 1, new WinogradWeightCache());
        var e = Assert.Throws<InvalidOperationException>(() => Backprop.Functional.Conv2dInference(Tensor.Ones(1, 2, 4, 4), layer, relu: false));
        Assert.Contains("no-grad", e.Message);
    }
}
