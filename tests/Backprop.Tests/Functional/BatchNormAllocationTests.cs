using Xunit.Abstractions;

namespace Backprop.Tests.FunctionalOps;

/// <summary>
/// A training step's BatchNorm leaves almost no garbage: its scratch is rented and its parameter gradients come from the
/// memory pool. Garbage that no collection clears raises a training run's peak working set step by step.
/// </summary>
public class BatchNormAllocationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("bnrelu")]
    [InlineData("bn")]
    [InlineData("bnaddrelu")]
    public void TrainingStepAllocatesLittleBesidesTheSavedStatistics(string op)
    {
        const int c = 256;
        var g = new Generator(5);
        var x = Tensor.Normal(g, 0f, 1f, 8, c, 8, 8);
        var r = Tensor.Normal(g, 0f, 1f, 8, c, 8, 8);
        var upstream = Tensor.Normal(g, 0f, 1f, 8, c, 8, 8);   // made once: Sum()'s backward would allocate a full gradient
        var w = Tensor.Uniform(g, 0.5f, 1.5f, c);
        var b = Tensor.Uniform(g, -0.5f, 0.5f, c);
        foreach (var t in new[] { x, r, w, b }) t.RequiresGrad = true;
        Tensor runningMean = Tensor.Zeros(c), runningVar = Tensor.Ones(c);
        var pool = new TensorMemoryPool();
        void Step()
        {
            using (pool.Scope())
            {
                var y = op switch
                {
                    "bnrelu" => Backprop.Functional.BatchNormRelu(x, runningMean, runningVar, w, b, true),
                    "bn" => Backprop.Functional.BatchNorm(x, runningMean, runningVar, w, b, true),
                    _ => Backprop.Functional.BatchNormAddRelu(x, r, runningMean, runningVar, w, b, true),
                };
                y.Backward(upstream);
            }
        }
        for (int i = 0; i < 3; i++) Step();   // the pools warm, the gradients exist
        long bytes = ThreadAllocations.Of(Step);
        output.WriteLine($"{op}: {bytes} bytes allocated on the calling thread by one step");
        // The saved mean and 1/std (2·8·C bytes) and the graph's objects; the per-channel scratch (several arrays of
        // 4 to 48 bytes a channel, about 55 KB at 256 channels) no longer allocates.
        Assert.True(bytes < 16 * c + 12 * 1024, $"{op}: a training step allocated {bytes} bytes");
    }
}
