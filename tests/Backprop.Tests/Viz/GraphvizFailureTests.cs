using Backprop.Viz;

namespace Backprop.Tests.Viz;

/// <summary>A dot that fails before reading its input (a half-configured Graphviz) is reported with its own message, not "Broken pipe".</summary>
public sealed class GraphvizFailureTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private string FakeDot(string script)
    {
        string path = dir.File("dot");
        File.WriteAllText(path, "#!/bin/sh\n" + script + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    // Larger than a pipe's buffer, so writing it blocks until dot exits, then fails.
    private static readonly string BigGraph = "digraph g {\n" + string.Concat(Enumerable.Range(0, 20000).Select(i => $"  n{i} -> n{i + 1};\n")) + "}\n";

    [Fact]
    public void ADotThatExitsEarlyIsReportedWithItsExitCodeAndMessage()
    {
        if (OperatingSystem.IsWindows()) return;
        string dot = FakeDot("echo 'Format: \"svg\" not recognized. Use one of: dot canon' >&2\nexit 1");
        var e = Assert.Throws<InvalidOperationException>(() => Graphviz.Run(dot, BigGraph, "svg", TimeSpan.FromSeconds(30)));
        Assert.Equal("Graphviz dot failed (exit code 1): Format: \"svg\" not recognized. Use one of: dot canon", e.Message);
    }

    [Fact]
    public void ADotThatStopsReadingButSucceedsIsStillAnError()
    {
        if (OperatingSystem.IsWindows()) return;
        string dot = FakeDot("echo 'gave up' >&2\nexit 0");
        var e = Assert.Throws<InvalidOperationException>(() => Graphviz.Run(dot, BigGraph, "svg", TimeSpan.FromSeconds(30)));
        Assert.Contains("stopped reading the graph", e.Message);
        Assert.Contains("gave up", e.Message);
    }

    [Fact]
    public void AWorkingDotStillRenders()
    {
        if (OperatingSystem.IsWindows()) return;
        string dot = FakeDot("cat > /dev/null\nprintf '<svg/>'");
        Assert.Equal("<svg/>"u8.ToArray(), Graphviz.Run(dot, BigGraph, "svg", TimeSpan.FromSeconds(30)));
    }
}
