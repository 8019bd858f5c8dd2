using BenchmarkDotNet.Attributes;
using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>SGEMM, row-major C = A·B (or with a transposed operand), square sizes and LeNet's shapes.</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    // "m x n x k TransATransB"; the LeNet shapes: conv1 forward as one product over the batch, ip1 forward
    // (64x500 from 800, B transposed), ip1 backward-data and backward-weights.
    [Params("256x256x256 NN", "512x512x512 NN", "1024x1024x1024 NN", "2048x2048x2048 NN",
        "36864x20x25 NN", "64x500x800 NT", "64x800x500 NN", "500x800x64 TN")]
    public string Shape { get; set; } = "";

    private int m, n, k;
    private bool transA, transB;
    private float[] a = [], b = [], c = [];

    [GlobalSetup]
    public void Setup()
    {
        var parts = Shape.Split(' ');
        var dims = parts[0].Split('x').Select(int.Parse).ToArray();
        (m, n, k) = (dims[0], dims[1], dims[2]);
        transA = parts[1][0] == 'T';
        transB = parts[1][1] == 'T';
        a = Data.Random((long)m * k, 1);
        b = Data.Random((long)k * n, 2);
        c = new float[(long)m * n];
    }

    [Benchmark]
    public void Sgemm() => Gemm.Sgemm(transA, transB, m, n, k, 1f, a, transA ? m : k, b, transB ? k : n, 0f, c, n);
}
