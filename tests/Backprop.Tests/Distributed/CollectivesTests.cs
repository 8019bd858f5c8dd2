namespace Backprop.Tests.Distributed;

/// <summary>The binding's collectives in real jobs of 2 and 3 processes, on both MPI libraries, and its error paths.</summary>
[Collection("MPI jobs")]
public class CollectivesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(Launcher.OpenMpi, 2)]
    [InlineData(Launcher.OpenMpi, 3)]
    [InlineData(Launcher.Mpich, 2)]
    [InlineData(Launcher.Mpich, 3)]
    public void EveryCollectiveGivesTheKnownResultOnEveryRank(Launcher launcher, int ranks)
    {
        var job = MpiJob.Run(launcher, ranks, "collectives", Timeout);
        Assert.True(job.ExitCode == 0, job.ToString());
        string library = launcher == Launcher.OpenMpi ? "Open MPI" : "MPICH";
        for (int r = 0; r < ranks; r++)
            Assert.Contains($"rank {r} of {ranks}: collectives OK on {library}", job.Output);
    }

    [Fact]
    public void AMissingLibraryNamesThePathAndWhatToInstall()
    {
        var job = MpiJob.Run(Launcher.None, 1, "load", Timeout,
            new Dictionary<string, string> { ["BACKPROP_MPI_LIBRARY"] = "/nonexistent/libmpi.so.40" });
        Assert.True(job.ExitCode != 0, job.ToString());
        Assert.Contains("BACKPROP_MPI_LIBRARY names /nonexistent/libmpi.so.40", job.Errors);
        Assert.Contains("apt-get install openmpi-bin", job.Errors);
    }

    [Fact]
    public void TheLogLineSaysWhichLibraryWasLoaded()
    {
        var job = MpiJob.Run(Launcher.Mpich, 2, "load", Timeout);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("rank 1: 2 ranks, MPICH Version: 4", job.Output);
    }
}
