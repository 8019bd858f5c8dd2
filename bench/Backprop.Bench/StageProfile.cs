using System.Globalization;
using Backprop.Kernels;
using Backprop.Nn;

namespace Backprop.Bench;

/// <summary>
/// ResNet-20 (BatchNorm folded) at batch 1 timed stage by stage inside whole forwards (stem, each block, pooling and
/// classifier in order, so each stage meets the caches the one before left), on 1 and 2 kernel threads alternating in
/// blocks of calls <see cref="Timing.SideGapMs"/> apart; median µs per stage. Where <c>latency-profile</c> times each layer repeated on its own
/// (hot caches), this shows where a whole forward's second thread gains or loses.
/// </summary>
internal static class StageProfile
{
    public static void Run(int rounds)
    {
        var generator = new Generator(1);
        var resnet = new ResNet20(generator);
        resnet.Eval();
        var folded = resnet.FusedForInference();
        var children = folded.NamedChildren().ToDictionary(c => c.Key, c => c.Value);
        var stem = (Conv2d)children["conv1"];
        var blocks = (Sequential)children["blocks"];
        var fc = (Linear)children["fc"];
        var stages = new List<(string Name, Func<Tensor, Tensor> Body)> { ("stem", stem.ForwardRelu) };
        for (int b = 0; b < blocks.Count; b++) stages.Add(($"block{b}", blocks[b].Forward));
        stages.Add(("pool+fc", x => fc.Forward(Functional.GlobalAvgPool2d(x).Flatten(1))));
        var image = Tensor.Rand(generator, 1, 3, 32, 32);
        var pool = new TensorMemoryPool();
        using var noGrad = Autograd.Autograd.NoGrad();
        int[] counts = [1, 2];
        var times = new List<double>[counts.Length, stages.Count + 1];
        for (int t = 0; t < counts.Length; t++) for (int s = 0; s <= stages.Count; s++) times[t, s] = [];
        long[] marks = new long[stages.Count + 1];
        void Forward()
        {
            using (pool.Scope())
            {
                var x = image;
                marks[0] = System.Diagnostics.Stopwatch.GetTimestamp();
                for (int s = 0; s < stages.Count; s++)
                {
                    x = stages[s].Body(x);
                    marks[s + 1] = System.Diagnostics.Stopwatch.GetTimestamp();
                }
            }
        }
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < 3;)
            foreach (int count in counts) { KernelThreads.Count = count; Forward(); }
        double us = 1e6 / System.Diagnostics.Stopwatch.Frequency;
        for (int round = 0; round < rounds; round++)
            for (int k = 0; k < counts.Length; k++)
            {
                int t = (k + round) % counts.Length;
                KernelThreads.Count = counts[t];
                Thread.Sleep(Timing.SideGapMs);
                for (int i = 0; i < 21; i++)
                {
                    Forward();
                    if (i == 0) continue;
                    for (int s = 0; s < stages.Count; s++) times[t, s].Add((marks[s + 1] - marks[s]) * us);
                    times[t, stages.Count].Add((marks[^1] - marks[0]) * us);
                }
            }
        Console.WriteLine("resnet20 folded, batch 1, stages inside whole forwards, median µs: 1 thread, 2 threads, 2t/1t");
        for (int s = 0; s <= stages.Count; s++)
        {
            double one = Timing.Median(times[0, s]), two = Timing.Median(times[1, s]);
            string name = s < stages.Count ? stages[s].Name : "whole";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STAGE {name,-10} {one,8:F1} {two,8:F1} {two / one,6:F2}"));
        }
    }
}
