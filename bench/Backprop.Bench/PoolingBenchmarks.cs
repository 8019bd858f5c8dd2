using BenchmarkDotNet.Attributes;
using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>LeNet's pooling layers (2x2 stride 2, Caffe's ceil rounding) and a 3x3 stride-2 window, forward and backward.</summary>
[MemoryDiagnoser]
public class PoolingBenchmarks
{
    [Params("pool1 64x20x24x24 2x2s2", "pool2 64x50x8x8 2x2s2", "8x64x56x56 3x3s2")]
    public string Case { get; set; } = "";

    private Pool2dGeometry g;
    private float[] x = [], y = [], dx = [];
    private int[] argmax = [];

    [GlobalSetup]
    public void Setup()
    {
        g = Case switch
        {
            "pool1 64x20x24x24 2x2s2" => Pool2dGeometry.Create(64, 20, 24, 24, 2, 2, 2, 2, 0, 0, true),
            "pool2 64x50x8x8 2x2s2" => Pool2dGeometry.Create(64, 50, 8, 8, 2, 2, 2, 2, 0, 0, true),
            _ => Pool2dGeometry.Create(8, 64, 56, 56, 3, 3, 2, 2, 0, 0, true),
        };
        x = Data.Random(g.InputLength, 1);
        y = new float[g.OutputLength];
        dx = new float[g.InputLength];
        argmax = new int[g.OutputLength];
        Pooling.MaxForward(g, x, y, argmax);
    }

    [Benchmark] public void MaxForward() => Pooling.MaxForward(g, x, y, argmax);
    [Benchmark] public void MaxBackward() => Pooling.MaxBackward(g, y, argmax, dx);
    [Benchmark] public void AvgForward() => Pooling.AvgForward(g, x, y, true);
    [Benchmark] public void AvgBackward() => Pooling.AvgBackward(g, y, dx, true);
}
