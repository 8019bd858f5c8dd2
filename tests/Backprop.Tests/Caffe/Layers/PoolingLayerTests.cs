using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Kernels;
using Xunit.Abstractions;
using static Backprop.Tests.Caffe.Layers.LayerNets;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>Pooling's MAX mask top and STOCHASTIC mode.</summary>
public sealed class PoolingLayerTests(ITestOutputHelper output)
{
    [Fact]
    public void MaxPoolingsSecondTopIsTheIndexOfEachMaximumInItsPlane()
    {
        var net = Build(Input(("data", [1, 2, 4, 4])) + """
            layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" top: "mask" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
            """);
        var result = Run(net, Phase.Test, ("data", Arange(1, 2, 4, 4)));
        // 3x3 outputs (rounded up); windows clipped to the plane, the maximum at the bottom-right of each.
        Assert.Equal(new float[] { 5, 7, 7, 13, 15, 15, 13, 15, 15 }, result.Blobs["mask"].ToArray()[..9]);
        Assert.Equal(result.Blobs["mask"].ToArray()[9..], result.Blobs["mask"].ToArray()[..9]);   // per plane, not per blob
        Assert.Equal(21f, result.Blobs["pool"].ToArray()[9]);
    }

    [Fact]
    public void OnlyMaxPoolingHasAMask()
    {
        var e = Assert.Throws<CaffeNetException>(() => Build(Input(("data", [1, 1, 4, 4])) + """
            layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" top: "mask" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
            """));
        Assert.Contains("only MAX pooling has a second top", e.Message);
    }

    [Fact]
    public void PadsUpToTheKernelLessOneWorkAsInCaffeAndLargerOnesAreRefused()
    {
        // 1x1x3x3 input 1..9, kernel 3, stride 3, pad 2 (Caffe allows up to kernel − 1): windows start at −2 and 1, so
        // the 2x2 output's windows hold rows/columns {0} and {1, 2}: max 1, 3 / 7, 9.
        var net = Build(Input(("data", [1, 1, 3, 3])) + """
            layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param { pool: MAX kernel_size: 3 stride: 3 pad: 2 } }
            """);
        var context = new NetContext(Phase.Train);
        context.Inputs["data"] = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        Assert.Equal(new float[] { 1, 3, 7, 9 }, net.Forward(context).Blobs["pool"].ToArray());

        var e = Assert.Throws<CaffeNetException>(() => Build(Input(("data", [1, 1, 9, 9])) + """
            layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param { pool: MAX kernel_size: 3 stride: 3 pad: 3 } }
            """));
        Assert.Contains("Layer 'pool' (type Pooling): pad (3, 3) must be smaller than the kernel", e.Message);
    }

    private static string Stochastic(int[] shape, int kernel, int stride) => Input(("data", shape)) +
        $"layer {{ name: \"pool\" type: \"Pooling\" bottom: \"data\" top: \"pool\" pooling_param {{ pool: STOCHASTIC kernel_size: {kernel} stride: {stride} }} }}";

    [Fact]
    public void StochasticInTestIsTheProbabilityWeightedAverage()
    {
        var net = Build(Stochastic([1, 1, 3, 3], 2, 2));
        var x = Tensor.FromArray([1, 2, 0, 3, 4, 5, 0, 0, 6], 1, 1, 3, 3);
        var y = Run(net, Phase.Test, ("data", x)).Blobs["pool"];
        // Windows clipped to the plane: {1, 2, 3, 4} → 30/10, {0, 5} → 25/5, {0, 0} → 0 (no mass), {6} → 6.
        Assert.Equal(new float[] { 3, 5, 0, 6 }, y.ToArray());
    }

    [Fact]
    public void StochasticSamplingPicksWhereTheRunningSumReachesTheDraw()
    {
        var g = Pool2dGeometry.Create(1, 1, 2, 2, 2, 2, 2, 2, 0, 0, ceilMode: true);
        float[] x = [1, 2, 3, 4];
        // Σ = 10; draws 0.05, 0.25, 0.95 give thresholds 0.5, 2.5, 9.5: running sums 1, 3, 6, 10 reach them at 1, 2 and 4.
        foreach (var (u, expected) in new[] { (0.05f, 0), (0.25f, 1), (0.95f, 3) })
        {
            var y = new float[1];
            var index = new int[1];
            StochasticPooling.SampleForward(g, x, [u], y, index);
            Assert.Equal(expected, index[0]);
            Assert.Equal(x[expected], y[0]);
        }
    }

    [Fact]
    public void StochasticInTrainSamplesByValueRepeatablyAndSendsTheGradientToTheSample()
    {
        var net = Build(Stochastic([2000, 1, 2, 2], 2, 2), Phase.Train);
        var x = Tensor.Zeros(2000, 1, 2, 2);
        var d = x.AsSpan();
        for (int i = 0; i < d.Length; i++) d[i] = i % 4 + 1;   // every window holds 1, 2, 3, 4
        x.RequiresGrad = true;
        var y = Run(net, Phase.Train, ("data", x)).Blobs["pool"];
        var counts = new int[5];
        foreach (float v in y.ToArray()) counts[(int)v]++;
        output.WriteLine($"drawn 1..4: {string.Join(", ", counts[1..])} of 2000");
        for (int v = 1; v <= 4; v++) Assert.InRange(counts[v] / 2000.0, v / 10.0 - 0.04, v / 10.0 + 0.04);
        Assert.Equal(y.ToArray(), Run(net, Phase.Train, ("data", x)).Blobs["pool"].ToArray());   // same seed and iteration
        y.Sum().Backward();
        var gx = x.Grad!.ToArray();
        var yd = y.ToArray();
        for (int i = 0; i < gx.Length; i++) Assert.Equal(yd[i / 4] == i % 4 + 1 ? 1f : 0f, gx[i]);
    }

    [Fact]
    public void StochasticTestGradientMatchesFiniteDifferences()
    {
        var x = UniformLeaf(new Generator(8), 0.5f, 2f, 2, 2, 5, 5);
        GradientCheck.Check(xs => Backprop.Functional.StochasticPool2d(xs[0], (3, 2), (2, 2), generator: null), [x], output, "stochastic pool (test)");
    }
}
