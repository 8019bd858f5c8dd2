namespace Backprop.Tests.Cli;

/// <summary>
/// Starts the built <c>backprop</c> command as a real MPI job on this machine: Open MPI's mpirun (TCP on loopback,
/// what containers need, each line tagged with its rank) or MPICH's mpiexec (lines prefixed with the rank).
/// Each rank computes on one thread, so several ranks share the test machine's cores fairly.
/// </summary>
internal static class CliMpiJob
{
    public const string OpenMpi = "openmpi", Mpich = "mpich";

    private static readonly Dictionary<string, string> Environment = new()
    {
        ["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none",
        ["BACKPROP_NUM_THREADS"] = "1",
    };

    /// <summary>One process (no launcher), on one thread as the ranks are.</summary>
    public static CliProcess Single(params string[] arguments) => new(Environment, arguments);

    /// <summary><paramref name="ranks"/> processes of <c>backprop</c> with the same <paramref name="arguments"/>.</summary>
    public static CliProcess Start(string mpi, int ranks, params string[] arguments) =>
        new(Environment, Launcher(mpi), ["-np", $"{ranks}", CliProcess.DotnetHost, CliProcess.CliDll, .. arguments]);

    /// <summary>One rank per argument list (MPMD: <c>-np 1 A : -np 1 B</c>), so ranks can be given different files.</summary>
    public static CliProcess StartEach(string mpi, params string[][] perRank) =>
        StartEachIn(mpi, [.. perRank.Select(arguments => ((string?)null, arguments))]);

    /// <summary>One rank per (working directory, arguments) pair (MPMD, Open MPI's <c>-wdir</c>).</summary>
    public static CliProcess StartEachIn(string mpi, params (string? Directory, string[] Arguments)[] perRank)
    {
        var command = new List<string>();
        foreach (var (directory, arguments) in perRank)
        {
            if (command.Count > 0) command.Add(":");
            command.AddRange(["-np", "1"]);
            if (directory is not null) command.AddRange(["-wdir", directory]);
            command.AddRange([CliProcess.DotnetHost, CliProcess.CliDll, .. arguments]);
        }
        return new(Environment, Launcher(mpi), [.. command]);
    }

    /// <summary>The lines rank <paramref name="rank"/> printed (stdout and stderr), from the launcher's tags.</summary>
    public static IEnumerable<string> LinesOf(string output, int rank) =>
        output.Split('\n').Where(l => l.StartsWith($"[1,{rank}]<", StringComparison.Ordinal) || l.StartsWith($"[{rank}] ", StringComparison.Ordinal));

    private static string[] Launcher(string mpi) => mpi switch
    {
        OpenMpi => ["mpirun.openmpi", "--allow-run-as-root", "--oversubscribe", "--tag-output", "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo"],
        Mpich => ["mpiexec.mpich", "-prepend-rank"],
        _ => throw new ArgumentException($"unknown MPI '{mpi}'", nameof(mpi)),
    };
}
