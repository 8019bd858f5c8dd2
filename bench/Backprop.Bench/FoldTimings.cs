using System.Globalization;
using Backprop.Nn;

namespace Backprop.Bench;

/// <summary>
/// Inference of <see cref="ResNet20"/> or <see cref="VggStack"/> in evaluation mode as trained against the same net with
/// each BatchNorm folded into its convolution (<see cref="Fusion"/>), alternating the two call by call in one process, so
/// the load of a shared machine falls on both alike. Batch 64 (images/s) and batch 1 (ms); medians, and the median of
/// the per-round ratios. Threads: BACKPROP_NUM_THREADS.
/// </summary>
internal static class FoldTimings
{
    public static void Run(string net, int rounds)
    {
        var generator = new Generator(1);
        (Module model, int size) = net switch
        {
            "resnet20" => ((Module)new ResNet20(generator), 32),
            "vgg" => (new VggStack(generator), 64),
            _ => throw new ArgumentException($"Unknown net '{net}'; use resnet20 or vgg."),
        };
        using var noGrad = Autograd.Autograd.NoGrad();
        model.Train();
        model.Forward(Tensor.Rand(generator, 8, 3, size, size));   // running statistics away from their initial values
        model.Eval();
        Module folded = model is ResNet20 r ? r.FusedForInference() : ((VggStack)model).FusedForInference();
        var sides = new[] { model, folded };
        foreach (int batch in new[] { 64, 1 })
        {
            var input = Tensor.Rand(generator, batch, 3, size, size);
            var pools = new[] { new TensorMemoryPool(), new TensorMemoryPool() };
            var times = new[] { new List<double>(), new List<double>() };
            var ratios = new List<double>();
            int repeats = batch == 1 ? 4 : 1;
            for (int round = -2; round < rounds; round++)   // two warm-up rounds
            {
                var pair = new double[2];
                for (int s = 0; s < 2; s++)
                    for (int i = 0; i < repeats; i++)
                    {
                        double ms = Timing.Milliseconds(() => { using (pools[s].Scope()) sides[s].Forward(input).AsSpan(); });
                        if (round >= 0) times[s].Add(ms);
                        pair[s] += ms;
                    }
                if (round >= 0) ratios.Add(pair[1] / pair[0]);
            }
            double unfoldedMs = Timing.Median(times[0]), foldedMs = Timing.Median(times[1]);
            var c = CultureInfo.InvariantCulture;
            Console.WriteLine(batch == 64
                ? string.Create(c, $"RESULT fold net={net} batch=64 unfolded_images_per_s={64000 / unfoldedMs:F0} folded_images_per_s={64000 / foldedMs:F0} time_ratio_median={Timing.Median(ratios):F3} rounds={rounds}")
                : string.Create(c, $"RESULT fold net={net} batch=1 unfolded_ms={unfoldedMs:F3} folded_ms={foldedMs:F3} time_ratio_median={Timing.Median(ratios):F3} rounds={rounds}"));
        }
    }
}
