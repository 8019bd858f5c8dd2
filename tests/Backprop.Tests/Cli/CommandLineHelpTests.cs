using System.CommandLine;
using Backprop.Caffe;
using Backprop.Cli;
using Backprop.Tests.Caffe;
using Backprop.Tests.Viz;

namespace Backprop.Tests.Cli;

/// <summary>The root command's name and description, the refusal of binary files where a prototxt goes, and the progress bar's loss.</summary>
public sealed class CommandLineHelpTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private static string Help()
    {
        var output = new StringWriter();
        Assert.Equal(0, BackpropCommand.Create().Parse(["--help"]).Invoke(new InvocationConfiguration { Output = output }));
        return output.ToString();
    }

    [Fact]
    public void HelpIsHeadedBackpropAndListsEveryCommand()
    {
        string help = Help();
        Assert.Contains("backprop [command] [options]", help);
        Assert.DoesNotContain("Backprop.Cli", help);
        var root = BackpropCommand.Create();
        foreach (var command in root.Subcommands)
            Assert.Contains(command.Name, root.Description);
        Assert.True(root.Subcommands.Count >= 14);
    }

    [Fact]
    public void SubcommandHelpNamesBackprop()
    {
        var output = new StringWriter();
        BackpropCommand.Create().Parse(["filters", "--help"]).Invoke(new InvocationConfiguration { Output = output });
        Assert.Contains("backprop filters [options]", output.ToString());
    }

    [Fact]
    public void GraphOfASafetensorsFileSaysWhatTheFileIs()
    {
        string path = dir.File("model.safetensors");
        var header = "{\"__metadata__\":{}}"u8.ToArray();
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header]);
        var e = Assert.Throws<ArgumentException>(() => GraphCommand.Run(path, null));
        Assert.Contains(path, e.Message);
        Assert.Contains("safetensors", e.Message);
        Assert.Contains(".prototxt", e.Message);

        string weights = dir.File("lenet.caffemodel");
        File.WriteAllBytes(weights, [0x0a, 0x05, (byte)'L', (byte)'e', (byte)'N', (byte)'e', (byte)'t', 0x00, 0x01]);
        Assert.Contains("binary", Assert.Throws<ArgumentException>(() => GraphCommand.Run(weights, null)).Message);
        string zip = dir.File("model.keras");
        File.WriteAllBytes(zip, [(byte)'P', (byte)'K', 3, 4, 0, 0]);
        Assert.Contains("zip", Assert.Throws<ArgumentException>(() => GraphCommand.Run(zip, null)).Message);

        // A prototxt under another extension is still read as one.
        string text = dir.File("net.txt");
        File.WriteAllText(text, TinyNets.ConvReluInnerProduct);
        var saved = Console.Out;
        Console.SetOut(TextWriter.Null);
        try { Assert.Equal(0, GraphCommand.Run(text, null)); }
        finally { Console.SetOut(saved); }
    }

    [Fact]
    public void ProgressBarShowsTheLoggedLossAtDisplayIterations()
    {
        // The solver logs "Iteration 100 (...), loss = 0.123457" after step 100, then reports Iteration 101.
        string shown = ConsoleProgress.Describe("training", new SolverProgress(101, 1000, 0.1234567f), display: 100, "training");
        Assert.Equal("training: iteration 100, loss = 0.123457", shown);
        Assert.Equal(shown, ConsoleProgress.Describe("training", new SolverProgress(102, 1000, 0.2f), display: 100, shown));
        Assert.Equal("training: iteration 1, loss = 0.5", ConsoleProgress.Describe("training", new SolverProgress(2, 1000, 0.5f), display: 0, ""));
    }
}
