using System.Diagnostics;
using Backprop.Distributed;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.MpiHost;

/// <summary>
/// Times training steps with gradients averaged during backward (overlap) and after it (blocking), alternating the
/// two modes round by round on the same model and printing medians: "bench [lenet|resnet20] [iterations] [rounds]".
/// </summary>
internal static class OverlapBench
{
    public static int Run(string[] args)
    {
        string which = args.Length > 0 ? args[0] : "lenet";
        int iterations = args.Length > 1 ? int.Parse(args[1]) : 10, rounds = args.Length > 2 ? int.Parse(args[2]) : 3;
        var world = Communicator.Initialize();
        var g = new Generator(1);
        var (model, input) = which == "resnet20" ? (ResNet20Sized(g), new[] { 32, 3, 32, 32 }) : (LeNet(g), new[] { 64, 1, 28, 28 });
        var x = Tensor.Randn(g, input);
        var labels = Enumerable.Range(0, input[0]).Select(i => i % 10).ToArray();
        var times = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        for (int round = 0; round < rounds; round++)
            foreach (bool overlap in new[] { false, true })
            {
                using var ddp = new DistributedDataParallel(model, world, overlap: overlap, bucketBytes: 256 * 1024);
                var optimizer = new Sgd(model.Parameters(), 0.01f);
                Step(ddp, optimizer, x, labels);   // warm-up
                world.Barrier();
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < iterations; i++) Step(ddp, optimizer, x, labels);
                world.Barrier();
                times[overlap].Add(clock.Elapsed.TotalMilliseconds / iterations);
            }
        if (world.IsRoot)
        {
            long values = model.Parameters().Sum(p => (long)p.Length);
            Console.WriteLine($"{which}: {values} parameters, batch {input[0]} per rank, {world.Description}");
            foreach (bool overlap in new[] { false, true })
                Console.WriteLine($"  {(overlap ? "overlap " : "blocking")}: median {Median(times[overlap]):F1} ms/step over {rounds} rounds ({string.Join(", ", times[overlap].Select(t => t.ToString("F1")))})");
        }
        return 0;
    }

    private static void Step(DistributedDataParallel ddp, Optimizer optimizer, Tensor x, int[] labels)
    {
        optimizer.ZeroGrad();
        Functional.CrossEntropy(ddp.Forward(x), labels).Backward();
        ddp.FinishGradientSync();
        optimizer.Step();
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static Module LeNet(Generator g) => new Sequential(
        new Conv2d(1, 20, 5, generator: g), new MaxPool2d(2), new Conv2d(20, 50, 5, generator: g), new MaxPool2d(2),
        new Flatten(), new Linear(800, 500, generator: g), new Relu(), new Linear(500, 10, generator: g));

    /// <summary>ResNet-20's 19 convolutions, widths and resolutions (0.27M parameters), without the skip additions.</summary>
    private static Module ResNet20Sized(Generator g)
    {
        var net = new Sequential();
        int channels = 3;
        foreach (var (width, count) in new[] { (16, 7), (32, 6), (64, 6) })
            for (int i = 0; i < count; i++)
            {
                int stride = i == 0 && width > 16 ? 2 : 1;
                net.Add(new Conv2d(channels, width, 3, stride, 1, bias: false, generator: g)).Add(new BatchNorm2d(width)).Add(new Relu());
                channels = width;
            }
        return net.Add(new AdaptiveAvgPool2d(1)).Add(new Flatten()).Add(new Linear(64, 10, generator: g));
    }
}
