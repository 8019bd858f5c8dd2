using System.Diagnostics;
using Backprop;
using Backprop.Nn;

namespace Freezing;

/// <summary>Which parameters require a gradient.</summary>
public enum Trainable
{
    /// <summary>Every layer learns.</summary>
    All,
    /// <summary>conv1 and conv2 frozen (<c>RequiresGrad(false)</c>), the rest learns: fine-tuning on top of fixed features.</summary>
    EarlyFrozen,
    /// <summary>Only conv1 and conv2 learn; the later layers are frozen but the gradient must still pass through them.</summary>
    OnlyEarly,
}

/// <summary>What one setting costs: backward nodes run, median times in milliseconds, the backward graph, and who got a gradient.</summary>
public sealed record FreezingResult(Trainable Setting, int BackwardNodes, double ForwardMs, double BackwardMs,
    string Dot, IReadOnlyList<string> WithGradient, IReadOnlyList<string> WithoutGradient)
{
    public double TotalMs => ForwardMs + BackwardMs;
}

/// <summary>Times forward and backward of <see cref="SmallCnn"/> under each <see cref="Trainable"/> setting.</summary>
public static class FreezingBenchmark
{
    /// <param name="setting">Which layers require gradients.</param>
    /// <param name="batchSize">Images per batch (32x32 RGB).</param>
    /// <param name="repetitions">Timed forward+backward passes; the median is reported. One untimed pass warms up first.</param>
    public static FreezingResult Measure(Trainable setting, int batchSize = 32, int repetitions = 10, ulong seed = 1)
    {
        var generator = new Generator(seed);
        var net = new SmallCnn(generator);
        if (setting == Trainable.EarlyFrozen) foreach (var m in net.EarlyLayers) m.RequiresGrad(false);
        if (setting == Trainable.OnlyEarly) foreach (var m in net.LateLayers) m.RequiresGrad(false);
        var images = Tensor.Randn(generator, batchSize, 3, 32, 32);
        var labels = Enumerable.Range(0, batchSize).Select(_ => generator.NextInt(10)).ToArray();

        var forward = new List<double>();
        var backward = new List<double>();
        int nodes = 0;
        string dot = "";
        for (int rep = -1; rep < repetitions; rep++)
        {
            net.ZeroGrad();
            long start = Stopwatch.GetTimestamp();
            var loss = Functional.CrossEntropy(net.Forward(images), labels);
            long mid = Stopwatch.GetTimestamp();
            if (rep == repetitions - 1) dot = net.ToDot(loss);   // before Backward, which frees the graph
            nodes = Backprop.Autograd.Autograd.Backward(loss);
            long end = Stopwatch.GetTimestamp();
            if (rep < 0) continue;   // warm-up: JIT and first-touch allocations
            forward.Add(Stopwatch.GetElapsedTime(start, mid).TotalMilliseconds);
            backward.Add(Stopwatch.GetElapsedTime(mid, end).TotalMilliseconds);
        }
        var named = net.NamedParameters().ToList();
        return new FreezingResult(setting, nodes, Median(forward), Median(backward), dot,
            named.Where(p => p.Value.Grad is not null).Select(p => p.Key).ToList(),
            named.Where(p => p.Value.Grad is null).Select(p => p.Key).ToList());
    }

    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
