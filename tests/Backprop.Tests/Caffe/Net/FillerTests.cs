using Backprop.Caffe;
using Backprop.Caffe.Proto;

namespace Backprop.Tests.Caffe.Net;

/// <summary>Caffe's fillers: sparse gaussian statistics, master's bilinear kernel, Caffe's fans for 1-D blobs.</summary>
public class FillerTests
{
    [Fact]
    public void SparseGaussianKeepsAboutSparseInputsPerOutput()
    {
        // 200 outputs, sparse 30: each weight kept with p = 0.15; the kept ones are N(0, 1).
        var blob = Tensor.Zeros(200, 500);
        Fillers.Fill(blob, new FillerParameter { Type = "gaussian", Std = 1, Sparse = 30 }, new Generator(1), "test");
        var v = blob.ToArray();
        double kept = v.Count(x => x != 0) / (double)v.Length;
        Assert.InRange(kept, 0.14, 0.16);   // 100000 draws: the standard error is 0.0011
        double variance = v.Where(x => x != 0).Average(x => (double)x * x);
        Assert.InRange(variance, 0.95, 1.05);
    }

    [Fact]
    public void SparseIsRefusedForOtherFillers()
    {
        var e = Assert.Throws<CaffeNetException>(() =>
            Fillers.Fill(Tensor.Zeros(2, 2), new FillerParameter { Type = "xavier", Sparse = 1 }, new Generator(1), "layer 'ip' weight_filler"));
        Assert.Contains("layer 'ip' weight_filler", e.Message);
    }

    [Fact]
    public void BilinearKernelOfSize3And4()
    {
        // Size 3: f = 2, centre (3 − 1)/4 = 0.5, so one axis is [0.5, 1, 0.5] (Caffe master; 1.0 gave [0.25, 0.75, 0.75]).
        var k3 = Tensor.Zeros(1, 1, 3, 3);
        Fillers.Fill(k3, new FillerParameter { Type = "bilinear" }, new Generator(1), "test");
        float[] axis3 = [0.5f, 1f, 0.5f];
        Assert.Equal(Enumerable.Range(0, 9).Select(i => axis3[i / 3] * axis3[i % 3]), k3.ToArray());
        // Size 4 (factor 2): f = 2, centre 0.75: [0.25, 0.75, 0.75, 0.25].
        var k4 = Tensor.Zeros(2, 1, 4, 4);
        Fillers.Fill(k4, new FillerParameter { Type = "bilinear" }, new Generator(1), "test");
        float[] axis4 = [0.25f, 0.75f, 0.75f, 0.25f];
        Assert.Equal(Enumerable.Range(0, 32).Select(i => axis4[i / 4 % 4] * axis4[i % 4]), k4.ToArray());
    }

    [Fact]
    public void XavierOfAOneDimensionalBlobUsesFanInOne()
    {
        // Caffe: fan_in = count / shape(0) = 1, so the range is ±√3 whatever the length.
        var blob = Tensor.Zeros(10000);
        Fillers.Fill(blob, new FillerParameter { Type = "xavier" }, new Generator(2), "test");
        Assert.InRange(blob.ToArray().Max(), 1.70f, MathF.Sqrt(3));
    }
}
