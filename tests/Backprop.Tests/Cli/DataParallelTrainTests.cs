using System.Diagnostics;
using System.Text.RegularExpressions;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Google.Protobuf;
using Xunit.Abstractions;

namespace Backprop.Tests.Cli;

/// <summary>
/// <c>mpirun -np N backprop train --solver S</c> as real MPI jobs on this machine: N ranks with batch B match one
/// process with batch N x B, every rank ends with the same weights, rank 0 alone prints, a failing rank ends the job
/// naming itself and the iteration, mismatched solvers are refused, and a snapshot resumes with another N.
/// </summary>
public sealed class DataParallelTrainTests(DataParallelLeNet lenet, ITestOutputHelper log) : IClassFixture<DataParallelLeNet>
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(CliMpiJob.OpenMpi)]
    [InlineData(CliMpiJob.Mpich)]
    public void TwoRanksWithBatch8MatchOneProcessWithBatch16(string mpi)
    {
        string reference = lenet.Reference;
        using var job = CliMpiJob.Start(mpi, 2, "train", "--solver", lenet.Solver(8, "two_" + mpi));
        Assert.True(job.WaitForExit(60) == 0, job.Output);
        string output = job.Output;

        var expected = DataParallelLeNet.Blobs(lenet.File("one_iter_100.caffemodel"));
        var actual = DataParallelLeNet.Blobs(lenet.File($"two_{mpi}_iter_100.caffemodel"));
        double difference = DataParallelLeNet.MaxRelativeDifference(expected, actual);
        log.WriteLine($"{mpi}: 2 ranks x 8 vs 1 process x 16 after {DataParallelLeNet.Iterations} iterations: max relative weight difference {difference:G3}; " +
                      $"accuracy {DataParallelLeNet.FinalAccuracy(output):F4} vs {DataParallelLeNet.FinalAccuracy(reference):F4}\n{output}");
        Assert.True(difference <= Tolerance, $"weights differ by {difference:G3} relative\n{output}");
        Assert.True(DataParallelLeNet.MaxRelativeDifference(expected, DataParallelLeNet.Blobs(lenet.File("one_iter_50.caffemodel"))) > 1e-3,
            "the weights still change at iteration 50");   // so the tolerance above is a real test
        Assert.InRange(Math.Abs(DataParallelLeNet.FinalAccuracy(output) - DataParallelLeNet.FinalAccuracy(reference)), 0, 0.001);
        Assert.InRange(DataParallelLeNet.FinalAccuracy(output), 0.3, 0.98);   // learnt, and not so easy that every run scores 1

        // Every rank's weights hash to rank 0's, which are the snapshot's.
        Assert.Contains($"Final weights identical on all 2 ranks (sha256 {DataParallelLeNet.Digest(actual)}).", output);
        Assert.Matches(@"Data-parallel training on 2 ranks, (Open MPI|MPICH).*effective batch 2 x 8 = 16", output);
        Assert.Matches(@"Data-parallel: 2 ranks, all-reduce \d+\.\d\d s of \d+\.\d s step time \(\d+\.\d%\)", output);
        Assert.Contains("Iteration 50 (epoch 1.25", output);   // 50 x 16 of 640 records
        Assert.Empty(CliMpiJob.LinesOf(output, 1));   // rank 1 is silent
        Assert.NotEmpty(CliMpiJob.LinesOf(output, 0));
        Assert.False(File.Exists(lenet.File($"two_{mpi}_log.csv.tmp")));
    }

    [Fact]
    public void ResumingTheOneProcessSnapshotOnTwoRanksEndsWhereTheOneProcessRunEnds()
    {
        _ = lenet.Reference;
        using var job = CliMpiJob.Start(CliMpiJob.OpenMpi, 2, "train", "--solver", lenet.Solver(8, "resumed"), "--snapshot", lenet.File("one_iter_50.solverstate"));
        Assert.True(job.WaitForExit(60) == 0, job.Output);
        Assert.Contains("Restored iteration 50", job.Output);
        Assert.Contains("50 iterations from 50", job.Output);
        var expected = DataParallelLeNet.Blobs(lenet.File("one_iter_100.caffemodel"));
        double difference = DataParallelLeNet.MaxRelativeDifference(expected, DataParallelLeNet.Blobs(lenet.File("resumed_iter_100.caffemodel")));
        log.WriteLine($"resumed on 2 ranks vs 1 process: max relative weight difference {difference:G3}");
        Assert.True(difference <= Tolerance, $"weights differ by {difference:G3} relative\n{job.Output}");
        Assert.False(File.Exists(lenet.File("resumed_iter_50.caffemodel")), "the resumed run starts after 50");
    }

    [Fact]
    public void MismatchedSolversAreRefusedNamingTheRanks()
    {
        string first = lenet.Solver(8, "same"), second = lenet.Solver(8, "other", extra: "clip_gradients: 10");
        var clock = Stopwatch.StartNew();
        using var job = CliMpiJob.StartEach(CliMpiJob.OpenMpi, ["train", "--solver", first], ["train", "--solver", second]);
        Assert.NotEqual(0, job.WaitForExit(60));
        // Open MPI forwards long lines in pieces, each with its rank tag: join them back before matching.
        string output = System.Text.RegularExpressions.Regex.Replace(job.Output, @"\[1,\d+\]<std(out|err)>:", "");
        Assert.Contains("error: The ranks were given different solvers, so they cannot train one model together; refused before training.", output);
        Assert.Contains($"rank 0: {first} (digest ", output);
        Assert.Contains($"rank 1: {second} (digest ", output);
        Assert.DoesNotContain("Iteration 0", output);
        Assert.True(clock.Elapsed.TotalSeconds < 30, $"{clock.Elapsed.TotalSeconds:F0} s");
    }

    [Fact]
    public void ANanLossOnOneRankEndsTheJobWithinSecondsNamingTheRankAndIteration()
    {
        // Records of 8x8 floats; record 90 is NaN: with 2 ranks of batch 8, iteration 5 gives rank 1 records 88 to 95.
        string source = lenet.File("nan_lmdb");
        Directory.CreateDirectory(source);
        using (var writer = new LmdbWriter(Path.Combine(source, "data.mdb")))
        {
            for (int i = 0; i < 256; i++)
            {
                var datum = new Datum { Channels = 1, Height = 8, Width = 8, Label = i % 3 };
                datum.FloatData.AddRange(Enumerable.Range(0, 64).Select(j => i == 90 ? float.NaN : (float)((i * 7 + j) % 11) / 11));
                writer.Add(System.Text.Encoding.ASCII.GetBytes($"{i:D8}"), datum.ToByteArray());
            }
            writer.Complete();
        }
        File.WriteAllText(lenet.File("nan.prototxt"), $$"""
            name: "nan"
            layer { name: "data" type: "Data" top: "data" top: "label" data_param { source: "{{source}}" batch_size: 8 backend: LMDB } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """);
        File.WriteAllText(lenet.File("nan_solver.prototxt"), $"""
            net: "{lenet.File("nan.prototxt")}" base_lr: 0.01 lr_policy: "fixed" max_iter: 1000 display: 1 snapshot: 0 snapshot_after_train: false
            snapshot_prefix: "{lenet.File("nan")}"
            """);
        var clock = Stopwatch.StartNew();
        using var job = CliMpiJob.Start(CliMpiJob.OpenMpi, 2, "train", "--solver", lenet.File("nan_solver.prototxt"));
        Assert.NotEqual(0, job.WaitForExit(60));
        string output = job.Output;
        Assert.Contains("rank 1 of 2 failed at iteration 5: The loss became NaN at iteration 5", output);
        Assert.Contains("Ending the whole MPI job (MPI_Abort", output);
        Assert.DoesNotContain("Iteration 6 ", output);
        Assert.True(clock.Elapsed.TotalSeconds < 30, $"{clock.Elapsed.TotalSeconds:F0} s\n{output}");
    }

    [Fact]
    public void AKilledRankEndsTheJobWithinSecondsNamingTheRank()
    {
        if (!OperatingSystem.IsLinux()) return;
        string solver = lenet.Solver(8, "killed");
        File.WriteAllText(solver, File.ReadAllText(solver).Replace($"max_iter: {DataParallelLeNet.Iterations}", "max_iter: 100000000").Replace("display: 25", "display: 1"));
        using var job = CliMpiJob.Start(CliMpiJob.OpenMpi, 2, "train", "--solver", solver);
        job.WaitFor(@"Iteration 3 ");
        int rank1 = Directory.GetDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out int pid) ? pid : 0).Single(pid =>
        {
            try
            {
                return pid > 0 && File.ReadAllText($"/proc/{pid}/cmdline").Contains(solver, StringComparison.Ordinal)
                    && File.ReadAllText($"/proc/{pid}/environ").Split('\0').Contains("OMPI_COMM_WORLD_RANK=1");
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        });
        var clock = Stopwatch.StartNew();
        Process.GetProcessById(rank1).Kill();
        Assert.NotEqual(0, job.WaitForExit(30));
        Assert.True(clock.Elapsed.TotalSeconds < 20, $"{clock.Elapsed.TotalSeconds:F0} s");
        Assert.Matches(@"process rank 1 .*(signal 9|Killed)", job.Output);
    }

    [Fact]
    public void ARankWhoseDataIsMissingEndsTheJobNamingTheRank()
    {
        // The same solver on both ranks, but the net's data source is relative to each rank's working directory:
        // only rank 0's has it.
        string solver = lenet.Solver(8, "missing");
        File.WriteAllText(solver, File.ReadAllText(solver).Replace(lenet.File("lenet_b8.prototxt"), lenet.File("lenet_relative.prototxt")));
        File.WriteAllText(lenet.File("lenet_relative.prototxt"),
            File.ReadAllText(lenet.File("lenet_b8.prototxt")).Replace(lenet.File("train_lmdb"), "data/train_lmdb"));
        string here = lenet.File("rank0"), there = lenet.File("rank1");
        Directory.CreateDirectory(Path.Combine(here, "data", "train_lmdb"));
        Directory.CreateDirectory(there);
        File.Copy(lenet.File("train_lmdb/data.mdb"), Path.Combine(here, "data", "train_lmdb", "data.mdb"));
        using var job = CliMpiJob.StartEachIn(CliMpiJob.OpenMpi, (here, ["train", "--solver", solver]), (there, ["train", "--solver", solver]));
        Assert.NotEqual(0, job.WaitForExit(60));
        Assert.Matches(new Regex(@"rank 1 of 2 failed at setup \(reading the solver, building the nets\): .*data/train_lmdb"), job.Output);
        Assert.DoesNotContain("rank 0 of 2 failed", job.Output);
    }
}
