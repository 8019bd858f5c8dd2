using System.Diagnostics;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Tests.Caffe;
using Backprop.Viz;
using Xunit.Abstractions;

namespace Backprop.Tests.Viz;

public class NetDiagramTests(ITestOutputHelper output)
{
    private static readonly NetParameter Lenet = Prototxt.Parse<NetParameter>(LenetPrototxts.TrainTest);

    [Fact]
    public void LenetDotHasEveryLayerAndBlobAndBalancedBraces()
    {
        string dot = NetDiagram.ToDot(Lenet);
        foreach (var layer in Lenet.Layer)
            Assert.Contains($"\"{layer.Name}\\n({layer.Type})", dot);
        foreach (var blob in new[] { "data", "label", "conv1", "pool1", "conv2", "pool2", "ip1", "ip2", "accuracy", "loss" })
            Assert.Contains($"[label=\"{blob}\", shape=octagon", dot);
        Assert.Equal(dot.Count(c => c == '{'), dot.Count(c => c == '}'));
        Assert.StartsWith("digraph \"LeNet\" {", dot);
        Assert.Contains("kernel size: 5", dot);
        Assert.Contains("pool: MAX", dot);
        Assert.Contains("num_output: 500", dot);
        Assert.Contains("[label=\"Batch 64\"]", dot);
    }

    [Fact]
    public void InPlaceLayerGoesIntoAndOutOfOneBlob()
    {
        string dot = NetDiagram.ToDot(Lenet);
        string relu = "layer_" + Lenet.Layer.ToList().FindIndex(l => l.Name == "relu1");
        string blob = dot.Split('\n').Single(l => l.Contains("[label=\"ip1\", shape=octagon")).Trim().Split(' ')[0];
        Assert.Contains($"  {blob} -> {relu};", dot);
        Assert.Contains($"  {relu} -> {blob};", dot);
    }

    [Fact]
    public void PhaseFilterKeepsOneDataLayer()
    {
        string dot = NetDiagram.ToDot(Lenet, new NetDiagramOptions { Phase = Phase.Train, RankDir = "TB" });
        Assert.Single(dot.Split('\n'), l => l.Contains("(Data)"));
        Assert.DoesNotContain("(Accuracy)", dot);
        Assert.Contains("rankdir=TB", dot);
    }

    [Fact]
    public async Task DotParsesWithGraphvizWhenInstalled()
    {
        if (!Graphviz.IsInstalled)
        {
            output.WriteLine("Graphviz dot is not installed; skipped parsing the DOT.");
            return;
        }
        var start = new ProcessStartInfo(Graphviz.FindDot()!, ["-Tsvg"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var svg = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(NetDiagram.ToDot(Lenet));
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        string svgText = await svg;
        Assert.True(process.ExitCode == 0, await errors);
        Assert.Contains("<svg", svgText);
        Assert.Contains("<svg", System.Text.Encoding.UTF8.GetString(Graphviz.Render(NetDiagram.ToDot(Lenet))));
        output.WriteLine($"dot -Tsvg OK, {svgText.Length} characters of SVG");
    }
}
