using System.Diagnostics;
using System.Globalization;
using Backprop.Kernels;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Bench;

/// <summary>
/// Where a training step's time goes for the nets of <see cref="ConvNetTimings"/> (resnet20, vgg): the forward pass,
/// the backward pass split by node name (Conv2dBackward, BatchNorm…; each summed over the net's layers), the
/// optimizer step and the zeroing of gradients, median ms per step over the rounds. The same step as ConvNetTimings,
/// so the parts add up to its training time (the per-node clock adds a little). BACKPROP_AB_CLOCK=cpu times the
/// process's CPU time (<see cref="CpuClock"/>; with BACKPROP_NUM_THREADS=1 steadier than wall time on a loaded machine).
/// </summary>
internal static class TrainingProfile
{
    public static void Run(string net, int steps)
    {
        var generator = new Generator(1);
        (Module model, int batch, int size) = ConvNetTimings.Make(net, generator);
        var images = Tensor.Rand(generator, batch, 3, size, size);
        var labels = Enumerable.Range(0, batch).Select(_ => generator.NextInt(10)).ToArray();
        var optimizer = new Sgd(model.Parameters(), 0.1f, momentum: 0.9f, weightDecay: 5e-4f);
        var pool = new TensorMemoryPool();
        model.Train();
        bool cpu = Environment.GetEnvironmentVariable("BACKPROP_AB_CLOCK") == "cpu" && CpuClock.Available;
        Func<TimeSpan> now = cpu ? () => TimeSpan.FromTicks(CpuClock.Nanoseconds() / 100) : () => Stopwatch.GetElapsedTime(0, Stopwatch.GetTimestamp());
        var parts = new Dictionary<string, List<double>>();
        void Add(string part, double ms) { if (!parts.TryGetValue(part, out var list)) parts[part] = list = []; list.Add(ms); }
        for (int i = -2; i < steps; i++)
        {
            var perNode = new Dictionary<string, double>();
            var whole = now();
            using (pool.Scope())
            {
                var clock = now();
                double Lap() { var t = now(); double ms = (t - clock).TotalMilliseconds; clock = t; return ms; }
                optimizer.ZeroGrad(setToNone: false);
                double zero = Lap();
                var output = Functional.CrossEntropy(model.Forward(images), labels);
                double forward = Lap();
                Autograd.Autograd.Backward(output, null, false, (node, t) =>
                    perNode[node.Name] = perNode.GetValueOrDefault(node.Name) + t.TotalMilliseconds, now);
                double backward = Lap();
                optimizer.Step();
                double step = Lap();
                if (i < 0) continue;
                Add("zero_grad", zero);
                Add("forward", forward);
                Add("backward", backward);
                Add("backward engine (outside nodes)", backward - perNode.Values.Sum());
                foreach (var (name, ms) in perNode) Add("  " + name, ms);
                Add("optimizer step", step);
            }
            Add("whole step", (now() - whole).TotalMilliseconds);
        }
        Console.WriteLine($"{net}, batch {batch}, {KernelThreads.Count} threads, {(cpu ? "process CPU time" : "wall time")}: median ms per step over {steps} steps");
        foreach (var (part, times) in parts.OrderBy(p => p.Key.StartsWith(' ') ? 1 : 0).ThenByDescending(p => Timing.Median(p.Value)))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PROFILE {part,-40} {Timing.Median(times),9:F2}"));
    }
}
