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
/// so the parts add up to its training time (the per-node clock adds a little).
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
        var parts = new Dictionary<string, List<double>>();
        void Add(string part, double ms) { if (!parts.TryGetValue(part, out var list)) parts[part] = list = []; list.Add(ms); }
        for (int i = -2; i < steps; i++)
        {
            var perNode = new Dictionary<string, double>();
            var whole = Stopwatch.StartNew();
            using (pool.Scope())
            {
                var clock = Stopwatch.StartNew();
                optimizer.ZeroGrad(setToNone: false);
                double zero = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                var output = Functional.CrossEntropy(model.Forward(images), labels);
                double forward = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                Autograd.Autograd.Backward(output, onNodeRun: (node, t) =>
                    perNode[node.Name] = perNode.GetValueOrDefault(node.Name) + t.TotalMilliseconds);
                double backward = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                optimizer.Step();
                double step = clock.Elapsed.TotalMilliseconds;
                if (i < 0) continue;
                Add("zero_grad", zero);
                Add("forward", forward);
                Add("backward", backward);
                Add("backward engine (outside nodes)", backward - perNode.Values.Sum());
                foreach (var (name, ms) in perNode) Add("  " + name, ms);
                Add("optimizer step", step);
            }
            Add("whole step", whole.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"{net}, batch {batch}, {KernelThreads.Count} threads: median ms per step over {steps} steps");
        foreach (var (part, times) in parts.OrderBy(p => p.Key.StartsWith(' ') ? 1 : 0).ThenByDescending(p => Timing.Median(p.Value)))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PROFILE {part,-40} {Timing.Median(times),9:F2}"));
    }
}
