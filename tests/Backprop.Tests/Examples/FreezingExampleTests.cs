using Freezing;

namespace Backprop.Tests.Examples;

public class FreezingExampleTests
{
    [Fact]
    public void FreezingTheEarlyLayersRunsTheFewestBackwardNodesAndFrozenParametersGetNoGradient()
    {
        var all = FreezingBenchmark.Measure(Trainable.All, batchSize: 2, repetitions: 1);
        var earlyFrozen = FreezingBenchmark.Measure(Trainable.EarlyFrozen, batchSize: 2, repetitions: 1);
        var onlyEarly = FreezingBenchmark.Measure(Trainable.OnlyEarly, batchSize: 2, repetitions: 1);

        // Frozen early layers: nothing below conv3 is recorded. Only-early: every layer is still on the path to conv1.
        Assert.True(earlyFrozen.BackwardNodes < onlyEarly.BackwardNodes, $"{earlyFrozen.BackwardNodes} vs {onlyEarly.BackwardNodes}");
        Assert.True(onlyEarly.BackwardNodes < all.BackwardNodes, $"{onlyEarly.BackwardNodes} vs {all.BackwardNodes}");

        string[] early = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"];
        string[] late = ["conv3.weight", "conv3.bias", "conv4.weight", "conv4.bias", "fc.weight", "fc.bias"];
        Assert.Equal([.. early, .. late], all.WithGradient);
        Assert.Empty(all.WithoutGradient);
        Assert.Equal(late, earlyFrozen.WithGradient);
        Assert.Equal(early, earlyFrozen.WithoutGradient);
        Assert.Equal(early, onlyEarly.WithGradient);
        Assert.Equal(late, onlyEarly.WithoutGradient);

        // The graphs show it: frozen parameters have no AccumulateGrad leaf.
        Assert.Contains("conv1.weight", all.Dot);
        Assert.DoesNotContain("conv1", earlyFrozen.Dot);
        Assert.DoesNotContain("conv2", earlyFrozen.Dot);
        Assert.DoesNotContain("fc.weight", onlyEarly.Dot);
        Assert.Contains("conv1.weight", onlyEarly.Dot);
        Assert.StartsWith("digraph", all.Dot);
    }
}
