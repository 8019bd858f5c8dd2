using System.Text.RegularExpressions;
using Backprop.Cli;
using Backprop.Tests.Onnx.Import;

namespace Backprop.Tests.Cli;

/// <summary><c>backprop graph</c> and <c>backprop time</c> on ONNX files (PyTorch 1.13's fixtures), and clean errors for a bad one.</summary>
[Collection("ConsoleOutput")]
public sealed partial class OnnxCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("onnx-cmd-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string Dot(string fixture, bool backward = false, IReadOnlyCollection<string>? freeze = null, bool showFrozen = false)
    {
        string path = Path.Combine(directory, fixture + (backward ? ".backward" : "") + ".dot");
        var previous = Console.Out;
        Console.SetOut(TextWriter.Null);
        try { Assert.Equal(0, GraphCommand.Run(OnnxImportFixtures.Model(fixture), path, backward, freeze, showFrozen: showFrozen)); }
        finally { Console.SetOut(previous); }
        return File.ReadAllText(path);
    }

    /// <summary>Node id -> label, and the edges as (from label, to label), from the DOT that <c>graph</c> writes.</summary>
    private static (Dictionary<string, string> Labels, List<(string From, string To)> Edges) Parse(string dot)
    {
        var labels = NodeLine().Matches(dot).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var edges = EdgeLine().Matches(dot).Select(m => (labels[m.Groups[1].Value], labels[m.Groups[2].Value])).ToList();
        return (labels, edges);
    }

    [GeneratedRegex(@"(?m)^  (\w+) \[.*label=""([^""]*)""")]
    private static partial Regex NodeLine();

    [GeneratedRegex(@"(?m)^  (\w+) -> (\w+);")]
    private static partial Regex EdgeLine();

    [Fact]
    public void Graph_draws_the_nodes_along_their_values_with_weights_in_the_labels()
    {
        var (labels, edges) = Parse(Dot("lenet"));
        Assert.Equal(11 + 2, labels.Count);   // 11 nodes, the input and the output; no weight is a node of its own
        Assert.Contains(@"Conv\n/conv1/Conv\n(1, 4, 24, 24)\nconv1.weight (4, 1, 5, 5)\nconv1.bias (4,)", labels.Values);
        Assert.Contains((@"input: input\n(1, 1, 28, 28)", labels.Values.Single(l => l.Contains("/conv1/Conv", StringComparison.Ordinal))), edges);
        Assert.Contains((labels.Values.Single(l => l.StartsWith("Conv\\n/conv1/", StringComparison.Ordinal)), @"Relu\n/Relu\n(1, 4, 24, 24)"), edges);
        Assert.Contains((@"LogSoftmax\n/LogSoftmax\n(1, 10)", "output: output"), edges);
        Assert.Equal(12, edges.Count);   // a chain: input -> 11 nodes -> output
    }

    [Fact]
    public void Graph_of_a_resnet_joins_the_skip_connection_into_its_add()
    {
        var (labels, edges) = Parse(Dot("resnet"));
        string add = labels.Values.Single(l => l.StartsWith(@"Add\n/layer1/Add", StringComparison.Ordinal));
        var into = edges.Where(e => e.To == add).Select(e => e.From.Split(@"\n")[1]).Order().ToList();
        Assert.Equal(["/layer1/bn2/BatchNormalization", "/stem/stem.2/Relu"], into);
        Assert.Contains(labels.Values, l => l.Contains(@"layer1.bn1.running_var (8,)", StringComparison.Ordinal));
    }

    [Fact]
    public void Graph_backward_names_the_initializers_and_freezes_by_prefix_or_node_name()
    {
        string dot = Dot("lenet", backward: true);
        foreach (var name in new[] { "conv1.weight", "conv1.bias", "conv2.weight", "fc2.bias", "ConvolutionBackward0", "AddmmBackward0", "LogSoftmaxBackward0" })
            Assert.Contains(name, dot);
        string frozen = Dot("lenet", backward: true, freeze: ["conv1", "/fc2/Gemm"], showFrozen: true);
        Assert.Contains(@"conv1.weight\n(4, 1, 5, 5)\n(frozen, no gradient)", frozen);
        Assert.Contains(@"fc2.bias\n(10,)\n(frozen, no gradient)", frozen);
        Assert.DoesNotContain(@"label=""conv1.weight\n(4, 1, 5, 5)"", fillcolor=""lightblue""", frozen);
        Assert.Contains(@"label=""conv2.weight\n(8, 4, 5, 5)"", fillcolor=""lightblue""", frozen);
        var e = Assert.Throws<ArgumentException>(() => Dot("lenet", backward: true, freeze: ["conv9"]));
        Assert.Contains("no node or initializer named 'conv9'", e.Message);
        Assert.Contains("conv1, conv2, fc1, fc2", e.Message);
    }

    [Fact]
    public void Time_prints_each_nodes_forward_and_backward_and_the_averages()
    {
        using var run = new CliProcess("time", "--model", OnnxImportFixtures.Model("lenet"), "--iterations", "2");
        Assert.Equal(0, run.WaitForExit());
        string output = run.Output;
        Assert.Contains("Testing for 2 iterations.", output);
        Assert.Contains("input (1, 1, 28, 28)", output);
        foreach (string node in new[] { "/conv1/Conv", "/Relu", "/MaxPool_1", "/fc2/Gemm", "/LogSoftmax" })
        {
            Assert.Matches($@"(?m)^\s*{Regex.Escape(node)}\tforward: \d+\.\d+ ms\.$", output);
            Assert.Matches($@"(?m)^\s*{Regex.Escape(node)}\tbackward: \d+\.\d+ ms\.$", output);
        }
        Assert.Matches(@"(?m)^Average Forward-Backward: \d+\.\d+ ms\.$", output);
        double convBackward = double.Parse(Regex.Match(output, @"/conv2/Conv\tbackward: (\S+) ms").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(convBackward > 0, "conv2's weights get a gradient, so its backward runs and is timed:\n" + output);
        Assert.Contains("*** Benchmark ends ***", output);
    }

    [Theory]
    [InlineData("graph")]
    [InlineData("time")]
    [InlineData("summary")]
    public void A_truncated_onnx_file_is_one_error_line_and_exit_code_1(string command)
    {
        string bad = Path.Combine(directory, "truncated.onnx");
        File.WriteAllBytes(bad, File.ReadAllBytes(OnnxImportFixtures.Model("lenet"))[..300]);
        using var run = new CliProcess(command, "--model", bad);
        Assert.Equal(1, run.WaitForExit());
        Assert.StartsWith($"error: {bad}: ", run.Output.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Output, StringComparison.Ordinal);
    }
}
