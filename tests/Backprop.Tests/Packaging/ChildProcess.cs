using System.Diagnostics;

namespace Backprop.Tests.Packaging;

/// <summary>What a finished (or killed) command left: exit code, both outputs, whether it ran out of time.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Output, string Errors, TimeSpan Elapsed, bool TimedOut)
{
    /// <summary>Everything a failed assertion needs to show.</summary>
    public override string ToString() =>
        $"{Command}\nexit {ExitCode} after {Elapsed.TotalSeconds:F1}s{(TimedOut ? " (timed out, killed)" : "")}\nstdout:\n{Output}\nstderr:\n{Errors}";
}

/// <summary>
/// Runs the dotnet CLI (or an installed tool) as a child process with a timeout, killing its whole process tree when
/// it outlives it, so a stuck restore can never hold up the test run.
/// </summary>
public static class ChildProcess
{
    /// <summary>The dotnet host that runs this test (DOTNET_HOST_PATH under dotnet test), else the one on PATH.</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/> in <paramref name="directory"/>.</summary>
    public static CommandResult Run(string file, IEnumerable<string> arguments, string directory, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // The test host runs under dotnet test, whose MSBuild variables would point a child build at the test's
        // own build; the child starts clean. No MSBuild or compiler server may outlive the child either.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        var command = $"{file} {string.Join(' ', arguments)}";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {command}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(timeout);
        if (!exited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return new CommandResult(command, exited ? process.ExitCode : -1, output.Result, errors.Result, clock.Elapsed, !exited);
    }
}
