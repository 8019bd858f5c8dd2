namespace Backprop.Tests.Distributed;

/// <summary>
/// DistributedDataParallel and Keras's Fit in real MPI jobs: identical weights on every rank, the same result as one
/// process on the combined batch, bit-for-bit repeatable runs, and failures that end the job instead of hanging it.
/// </summary>
[Collection("MPI jobs")]
public class DataParallelJobTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(40);

    private static float[] Weights(string directory, string file) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(directory, file))).ToArray();

    private static string Train(Launcher launcher, int ranks, string options)
    {
        var output = MpiJob.TempDirectory();
        var job = MpiJob.Run(launcher, ranks, $"train {output} {options}", Timeout);
        Assert.True(job.ExitCode == 0, job.ToString());
        return output;
    }

    [Theory]
    [InlineData(Launcher.OpenMpi, 3, "")]
    [InlineData(Launcher.OpenMpi, 2, "--blocking --bucket 100000")]
    [InlineData(Launcher.Mpich, 3, "")]
    public void EveryRankEndsWithBitIdenticalWeights(Launcher launcher, int ranks, string options)
    {
        var output = Train(launcher, ranks, $"--batch 4 --iters 20 {options}");
        var rank0 = File.ReadAllBytes(Path.Combine(output, "weights.rank0.bin"));
        for (int r = 1; r < ranks; r++)
            Assert.True(rank0.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(output, $"weights.rank{r}.bin"))), $"rank {r}'s weights differ from rank 0's");
        // Each rank started from its own seed: only the broadcast made them equal, and training moved them.
        var initial = TrainScenarioWeightsAtStart();
        Assert.NotEqual(initial, Weights(output, "weights.rank0.bin"));
    }

    [Fact]
    public void TwoRanksWithBatchBMatchOneProcessWithBatch2B()
    {
        var parallel = Weights(Train(Launcher.OpenMpi, 2, "--batch 4 --iters 20"), "weights.rank0.bin");
        var single = Weights(Train(Launcher.None, 1, "--single --batch 8 --iters 20"), "weights.rank0.bin");
        float scale = single.Max(Math.Abs);
        double worst = 0;
        for (int i = 0; i < single.Length; i++) worst = Math.Max(worst, Math.Abs(parallel[i] - single[i]) / scale);
        Assert.True(worst < 1e-5, $"largest difference {worst:E2} of the largest weight {scale}");
        // And the comparison can fail: one process with batch B (half the records) lands elsewhere.
        var halfBatch = Weights(Train(Launcher.None, 1, "--single --batch 4 --iters 20"), "weights.rank0.bin");
        Assert.True(Enumerable.Range(0, single.Length).Max(i => Math.Abs(halfBatch[i] - single[i])) / scale > 1e-3);
    }

    [Fact]
    public void RunsRepeatBitForBit()
    {
        var first = File.ReadAllBytes(Path.Combine(Train(Launcher.OpenMpi, 2, "--batch 4 --iters 10"), "weights.rank1.bin"));
        var second = File.ReadAllBytes(Path.Combine(Train(Launcher.OpenMpi, 2, "--batch 4 --iters 10"), "weights.rank1.bin"));
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData(Launcher.OpenMpi)]
    [InlineData(Launcher.Mpich)]
    public void ARankThatThrowsEndsTheJobNamingTheRankAndIteration(Launcher launcher)
    {
        var job = MpiJob.Run(launcher, 3, $"train {MpiJob.TempDirectory()} --iters 200 --throw-at 1:3", Timeout);
        Assert.False(job.TimedOut, job.ToString());
        Assert.NotEqual(0, job.ExitCode);
        Assert.Contains("rank 1 of 3 failed at iteration 3: the scenario's planned failure", job.Errors);
        Assert.True(job.Elapsed < TimeSpan.FromSeconds(20), job.ToString());
    }

    [Fact]
    public void ARankKilledBySigkillEndsTheJobInBoundedTime()
    {
        var job = MpiJob.Run(Launcher.OpenMpi, 2, $"train {MpiJob.TempDirectory()} --iters 100000 --kill-at 1:3", Timeout);
        Assert.False(job.TimedOut, "the surviving rank waited for the killed one: " + job);
        Assert.NotEqual(0, job.ExitCode);
        Assert.True(job.Elapsed < TimeSpan.FromSeconds(25), job.ToString());
    }

    [Fact]
    public void RanksWithDifferentModelsAreRefusedAtStart()
    {
        var job = MpiJob.Run(Launcher.OpenMpi, 3, $"train {MpiJob.TempDirectory()} --extra-layer-on 2", Timeout);
        Assert.Equal(3, job.ExitCode);
        Assert.Contains("The ranks were given different models", job.Errors);
        Assert.Contains("rank 0: 6 parameter tensors", job.Errors);
        Assert.Contains("rank 2: 8 parameter tensors", job.Errors);
    }

    [Fact]
    public void KerasFitUnderMpirunTrainsTogetherAndOnlyRankZeroReports()
    {
        var output = MpiJob.TempDirectory();
        var job = MpiJob.Run(Launcher.OpenMpi, 2, $"keras {output}", Timeout);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal(File.ReadAllBytes(Path.Combine(output, "keras.rank0.bin")), File.ReadAllBytes(Path.Combine(output, "keras.rank1.bin")));
        Assert.Contains("rank 1: 0 progress reports", job.Output);
        Assert.Contains("progress rank 0: epoch 2 step 4/4", job.Output);   // 50 samples, 25 per rank, batches of 8
        Assert.DoesNotContain("progress rank 1", job.Output);
        var csv = File.ReadAllLines(Path.Combine(output, "log.csv"));
        Assert.Equal(3, csv.Length);   // header and two epochs, written once
        // Both ranks log the same loss: the epoch's logs are averaged over the ranks.
        var losses = job.Output.Split('\n').Where(l => l.Contains("final loss")).Select(l => l[l.IndexOf("final loss")..]).Distinct().ToList();
        Assert.Single(losses);
    }

    /// <summary>Rank 0's untrained weights, as the host builds them.</summary>
    private static float[] TrainScenarioWeightsAtStart() =>
        Weights(Train(Launcher.None, 1, "--single --batch 4 --iters 0"), "weights.rank0.bin");
}
