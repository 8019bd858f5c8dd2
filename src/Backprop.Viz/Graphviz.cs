using System.Diagnostics;
using System.Text;

namespace Backprop.Viz;

/// <summary>What <see cref="Graphviz.Save"/> wrote: the file, and whether it is a rendered picture or the DOT source.</summary>
public sealed record GraphFile(string Path, bool Rendered, string Message);

/// <summary>Renders Graphviz DOT to SVG, PNG or PDF by running the <c>dot</c> program when it is installed.</summary>
public static class Graphviz
{
    /// <summary>The full path of <c>dot</c> on the PATH, or null when Graphviz is not installed.</summary>
    public static string? FindDot()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in OperatingSystem.IsWindows() ? new[] { "dot.exe" } : ["dot"])
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    public static bool IsInstalled => FindDot() is not null;

    /// <summary>Runs <c>dot -T<paramref name="format"/></c> on <paramref name="dot"/> and returns its output.</summary>
    /// <exception cref="InvalidOperationException">Graphviz is not installed, or dot rejected the graph (its message is included).</exception>
    public static byte[] Render(string dot, string format = "svg", TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(dot);
        if (format is not ("svg" or "png" or "pdf" or "ps" or "plain" or "json"))
            throw new ArgumentException($"Graphviz output format '{format}' is not one of svg, png, pdf, ps, plain, json.", nameof(format));
        string program = FindDot() ?? throw new InvalidOperationException("Graphviz 'dot' is not installed (on Debian: apt-get install graphviz).");
        return Run(program, dot, format, timeout ?? TimeSpan.FromMinutes(2));
    }

    /// <summary>Runs <paramref name="program"/> (a dot) on <paramref name="dot"/>; a dot that fails, even before reading its input, is reported with its own message.</summary>
    internal static byte[] Run(string program, string dot, string format, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program, ["-T" + format])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var errors = process.StandardError.ReadToEndAsync();
        IOException? writeFailure = null;
        try
        {
            using var input = new StreamWriter(process.StandardInput.BaseStream, new UTF8Encoding(false));
            input.Write(dot);
        }
        catch (IOException e)
        {
            // dot exited (or closed its input) before reading the whole graph: "Broken pipe". Its exit code and
            // stderr say why (a half-configured install: 'Format: "svg" not recognized').
            writeFailure = e;
        }
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("Graphviz dot did not finish in time; the graph may be too large to lay out.");
        }
        copy.Wait();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"Graphviz dot failed (exit code {process.ExitCode}): {errors.Result.Trim()}", writeFailure);
        if (writeFailure is not null)
            throw new InvalidOperationException($"Graphviz dot stopped reading the graph and exited with code 0: {errors.Result.Trim()}", writeFailure);
        return output.ToArray();
    }

    /// <summary>
    /// Writes a graph to <paramref name="path"/>: the DOT text for a <c>.dot</c>/<c>.gv</c> path; for <c>.svg</c>,
    /// <c>.png</c> or <c>.pdf</c> the picture rendered by dot when it is installed, and otherwise the DOT text
    /// beside it (the same name with <c>.dot</c>), saying so in <see cref="GraphFile.Message"/>. Files are written atomically.
    /// </summary>
    public static GraphFile Save(string dot, string path)
    {
        ArgumentNullException.ThrowIfNull(dot);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string ext = Path.GetExtension(path).TrimStart('.').ToLowerInvariant();
        if (ext is "dot" or "gv")
        {
            PngFile.WriteAtomically(path, Encoding.UTF8.GetBytes(dot));
            return new GraphFile(path, false, $"Wrote the graph as DOT to {path}.");
        }
        if (ext is not ("svg" or "png" or "pdf"))
            throw new ArgumentException($"Cannot write a graph to '{path}': use .dot, .gv, .svg, .png or .pdf.");
        if (!IsInstalled)
        {
            string dotPath = Path.ChangeExtension(path, ".dot");
            PngFile.WriteAtomically(dotPath, Encoding.UTF8.GetBytes(dot));
            return new GraphFile(dotPath, false,
                $"Graphviz 'dot' is not installed, so {path} was not rendered; wrote the DOT to {dotPath} (install graphviz, then: dot -T{ext} {dotPath} -o {path}).");
        }
        PngFile.WriteAtomically(path, Render(dot, ext));
        return new GraphFile(path, true, $"Wrote {path}.");
    }
}
