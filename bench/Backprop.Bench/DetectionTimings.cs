using System.Diagnostics;
using System.Globalization;
using Backprop.Detection;

namespace Backprop.Bench;

/// <summary>
/// Stopwatch timings of a Faster R-CNN training step, by phase (detection-step), and of one VGG16 Faster R-CNN
/// forward+backward on a 224x224 image with the paper's shapes (detection-vgg): medians after a warm-up.
/// </summary>
public static class DetectionTimings
{
    /// <summary>A small-backbone step on random 224x224 images with three boxes each, phase by phase.</summary>
    public static void Step(int repeats, int batchSize)
    {
        var config = new FasterRcnnConfig { Backbone = "small", Classes = ["a", "b", "c", "d"], AnchorSizes = [32f, 64f, 128f] };
        var model = FasterRcnn.Create(config, 1);
        var (images, sizes, targets) = RandomBatch(batchSize, 224, config.Classes.Count, 7);
        var phases = new Dictionary<string, List<double>>();
        void Add(string name, Stopwatch clock) { (phases.TryGetValue(name, out var l) ? l : phases[name] = []).Add(clock.Elapsed.TotalMilliseconds); clock.Restart(); }
        for (int r = 0; r < repeats + 2; r++)
        {
            var clock = Stopwatch.StartNew();
            var total = Stopwatch.StartNew();
            model.ZeroGrad();
            var features = model.Backbone.Forward(images);
            Add("backbone forward", clock);
            var rpn = model.Rpn.Propose(features, sizes, targets, new Generator(2));
            Add("rpn forward + losses", clock);
            var (cls, box) = model.RoiHeads.Losses(features, rpn.Proposals, sizes, targets, new Generator(3));
            Add("roi heads forward + losses", clock);
            var loss = rpn.ObjectnessLoss! + rpn.BoxLoss! + cls + box;
            var perNode = new Dictionary<string, double>();
            Autograd.Autograd.Backward(loss, onNodeRun: (node, t) => perNode[node.Name] = perNode.GetValueOrDefault(node.Name) + t.TotalMilliseconds);
            Add("backward", clock);
            foreach (var (name, ms) in perNode) (phases.TryGetValue("  " + name, out var l) ? l : phases["  " + name] = []).Add(ms);
            Add("step", total);
            if (r < 2) foreach (var l in phases.Values) l.Clear();
        }
        foreach (var (name, times) in phases)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-28} {Timing.Median(times),8:F1} ms"));
    }

    /// <summary>Forward+backward of one 224x224 image through a VGG16 Faster R-CNN (conv5_3 14x14x512, 9 anchors, 18 + 36 head channels).</summary>
    public static void Vgg(int repeats)
    {
        var config = new FasterRcnnConfig { Backbone = "vgg16", Classes = ["a", "b"], AnchorSizes = [128f, 256f, 512f], RepresentationSize = 4096 };
        var model = FasterRcnn.Create(config, 1);
        var (images, sizes, targets) = RandomBatch(1, 224, 2, 11);
        var times = new List<double>();
        for (int r = 0; r < repeats + 1; r++)
        {
            var clock = Stopwatch.StartNew();
            model.ZeroGrad();
            var losses = model.Forward(images, sizes, targets).Losses!;
            losses.Total.Backward();
            if (r > 0) times.Add(clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT backprop vgg16_fwd_bwd_seconds={Timing.Median(times):F3}"));
    }

    private static (Tensor Images, (int, int)[] Sizes, DetectionTarget[] Targets) RandomBatch(int n, int size, int classes, ulong seed)
    {
        var g = new Generator(seed);
        var images = Tensor.Rand(g, n, 3, size, size);
        var targets = new DetectionTarget[n];
        for (int i = 0; i < n; i++)
        {
            var boxes = new float[12];
            for (int b = 0; b < 3; b++)
            {
                float w = 30 + 80 * g.NextFloat(), h = 30 + 80 * g.NextFloat(), x = (size - w) * g.NextFloat(), y = (size - h) * g.NextFloat();
                boxes[4 * b] = x; boxes[4 * b + 1] = y; boxes[4 * b + 2] = x + w; boxes[4 * b + 3] = y + h;
            }
            targets[i] = new DetectionTarget(Tensor.FromArray(boxes, 3, 4), [1 + g.NextInt(classes), 1 + g.NextInt(classes), 1 + g.NextInt(classes)]);
        }
        return (images, Enumerable.Repeat((size, size), n).ToArray(), targets);
    }
}
