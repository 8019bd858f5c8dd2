using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Backprop.Tests.Cli;

/// <summary>The built <c>backprop</c> command (Backprop.Cli.dll beside the tests) run as a real process, with its output lines and signals.</summary>
internal sealed partial class CliProcess : IDisposable
{
    public const int SigHup = 1, SigInt = 2, SigTerm = 15;

    private readonly Process process;
    private readonly BlockingCollection<string> lines = new();
    private readonly ConcurrentQueue<string> all = new();

    public CliProcess(params string[] arguments) : this(new Dictionary<string, string>(), arguments)
    {
    }

    /// <summary>Runs the command with <paramref name="environment"/> added to this process's environment.</summary>
    public CliProcess(IReadOnlyDictionary<string, string> environment, params string[] arguments)
        : this(environment, [], [DotnetHost, CliDll, .. arguments])
    {
    }

    /// <summary>Runs <paramref name="command"/> (a launcher such as mpirun, then what it starts) with <paramref name="environment"/> added.</summary>
    public CliProcess(IReadOnlyDictionary<string, string> environment, string[] launcher, string[] command)
    {
        string[] all = [.. launcher, .. command];
        var start = new ProcessStartInfo(all[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in all.Skip(1)) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The dotnet executable that runs the tests.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>The built Backprop.Cli.dll beside the tests.</summary>
    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll");

    /// <summary>Everything printed so far (stdout and stderr).</summary>
    public string Output => string.Join('\n', all);

    /// <summary>Waits for a line matching <paramref name="pattern"/> and returns its match; fails after <paramref name="seconds"/>.</summary>
    public Match WaitFor(string pattern, int seconds = 120)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (lines.TryTake(out var line, 200))
            {
                var m = regex.Match(line);
                if (m.Success) return m;
            }
            else if (process.HasExited && lines.Count == 0) break;
        }
        throw new Xunit.Sdk.XunitException($"No line matching '{pattern}' within {seconds} s. Output:\n{Output}");
    }

    public void Signal(int signal)
    {
        if (Kill(process.Id, signal) != 0) throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Waits for the process to end and returns its exit code.</summary>
    public int WaitForExit(int seconds = 120)
    {
        if (!process.WaitForExit(seconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"backprop did not exit within {seconds} s. Output:\n{Output}");
        }
        process.WaitForExit();   // drains the output
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null) return;
        all.Enqueue(line);
        lines.Add(line);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
