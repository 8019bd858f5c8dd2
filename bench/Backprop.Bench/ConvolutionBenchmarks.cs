using BenchmarkDotNet.Attributes;
using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>The three convolutions: forward, backward-data, backward-weights (with bias) and all three.</summary>
[MemoryDiagnoser]
public class ConvolutionBenchmarks
{
    [Params("LeNet conv2 64x20x12x12 k50 5x5", "VGG 8x64x56x56 k64 3x3 pad1", "1x1 8x256x28x28 k64", "LeNet conv1 64x1x28x28 k20 5x5")]
    public string Case { get; set; } = "";

    private Conv2dGeometry g;
    private float[] x = [], w = [], bias = [], y = [], dx = [], dw = [], db = [];

    [GlobalSetup]
    public void Setup()
    {
        g = Case switch
        {
            "LeNet conv2 64x20x12x12 k50 5x5" => new Conv2dGeometry(64, 20, 12, 12, 50, 5, 5, 1, 1, 0, 0, 1, 1, 1),
            "VGG 8x64x56x56 k64 3x3 pad1" => new Conv2dGeometry(8, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            "1x1 8x256x28x28 k64" => new Conv2dGeometry(8, 256, 28, 28, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1),
            _ => new Conv2dGeometry(64, 1, 28, 28, 20, 5, 5, 1, 1, 0, 0, 1, 1, 1),
        };
        x = Data.Random(g.InputLength, 1);
        w = Data.Random(g.WeightLength, 2);
        bias = Data.Random(g.OutChannels, 3);
        y = Data.Random(g.OutputLength, 4);
        dx = new float[g.InputLength];
        dw = new float[g.WeightLength];
        db = new float[g.OutChannels];
    }

    [Benchmark] public void Forward() => Convolution.Forward(g, x, w, bias, y);
    [Benchmark] public void BackwardData() => Convolution.BackwardData(g, y, w, dx);
    [Benchmark] public void BackwardWeights() => Convolution.BackwardWeights(g, x, y, dw, db);

    [Benchmark]
    public void ForwardBackward()
    {
        Convolution.Forward(g, x, w, bias, y);
        Convolution.BackwardData(g, y, w, dx);
        Convolution.BackwardWeights(g, x, y, dw, db);
    }
}
