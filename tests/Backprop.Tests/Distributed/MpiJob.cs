using System.Diagnostics;

namespace Backprop.Tests.Distributed;

/// <summary>Which launcher starts a job: Open MPI's mpirun or MPICH's Hydra mpiexec.</summary>
public enum Launcher { OpenMpi, Mpich, None }

/// <summary>What a finished (or killed) job left: exit code, both outputs, how long it ran.</summary>
public sealed record JobResult(int ExitCode, string Output, string Errors, TimeSpan Elapsed, bool TimedOut)
{
    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1}s{(TimedOut ? " (timed out, killed)" : "")}\nstdout:\n{Output}\nstderr:\n{Errors}";
}

/// <summary>
/// Starts tests/Backprop.MpiHost under a real MPI launcher with N processes (TCP on loopback, one kernel thread per
/// rank, as the sandbox needs), and kills the whole process tree when it outlives its timeout, so a hang can never
/// block the test run.
/// </summary>
public static class MpiJob
{
    private static readonly string Host = Path.Combine(AppContext.BaseDirectory, "Backprop.MpiHost.dll");

    public static JobResult Run(Launcher launcher, int processes, string arguments, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        Assert.True(File.Exists(Host), $"The MPI test host is missing: {Host}");
        var (file, prefix) = launcher switch
        {
            Launcher.OpenMpi => ("mpirun", $"--allow-run-as-root --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo -np {processes} "),
            Launcher.Mpich => ("mpiexec.mpich", $"-n {processes} "),
            _ => ("dotnet", ""),
        };
        var start = new ProcessStartInfo(file, launcher == Launcher.None ? $"\"{Host}\" {arguments}" : $"{prefix}dotnet \"{Host}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        start.Environment["BACKPROP_NUM_THREADS"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        // The test runner's own environment may carry a launcher's variables; a child job must not inherit them.
        foreach (var name in new[] { "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK", "BACKPROP_MPI_LIBRARY" })
            start.Environment.Remove(name);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        var clock = Stopwatch.StartNew();
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Cannot start {file}: {e.Message}. The MPI tests need Open MPI (openmpi-bin) and MPICH (mpich) installed; .ci/run installs them.", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            bool exited = process.WaitForExit(timeout);
            if (!exited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new JobResult(exited ? process.ExitCode : -1, output.Result, errors.Result, clock.Elapsed, !exited);
        }
    }

    /// <summary>A fresh directory for a job's output files.</summary>
    public static string TempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "backprop-mpi-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }
}
