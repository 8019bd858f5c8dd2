using System.CommandLine;
using Backprop.Caffe.Proto;
using Backprop.Viz;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop graph --model M|net.onnx [--output net.dot|.svg|.png] [--backward [--freeze conv1,conv2]]</c>: the net as
/// Caffe's draw_net draws it (an ONNX file: its nodes), or the autograd backward graph of one TRAIN pass; rendered when Graphviz is installed.
/// </summary>
public static class GraphCommand
{
    internal static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The net prototxt, a saved Keras model (.keras, .h5, .safetensors from Save), or an ONNX graph (.onnx).", Required = true };
        var output = new Option<FileInfo?>("--output") { Description = "Where to write: .dot, or .svg/.png/.pdf (rendered by Graphviz dot). Default: DOT on stdout." };
        var backward = new Option<bool>("--backward") { Description = "Draw the autograd backward graph of one TRAIN forward pass instead of the layers." };
        var freeze = new Option<string?>("--freeze") { Description = "With --backward: layers to freeze (lr_mult 0), comma-separated; their parameters drop out of the graph. For .onnx: node names or initializer prefixes (conv1)." };
        var showFrozen = new Option<bool>("--show-frozen") { Description = "With --freeze: draw the frozen parameters greyed out instead of leaving them out." };
        var phase = new Option<string?>("--phase") { Description = "Draw only the layers of TRAIN or TEST (default: all layers)." };
        var rankdir = new Option<string>("--rankdir") { Description = "Layer diagram direction: LR, TB, BT or RL (the backward graph is drawn top to bottom, as torchviz draws it).", DefaultValueFactory = _ => "LR" };
        var inputShape = VizArguments.InputShape();
        var command = new Command("graph", "Draw a net (layers and blobs) or its backward graph as Graphviz DOT/SVG.") { model, output, backward, freeze, showFrozen, phase, rankdir, inputShape };
        command.SetAction(r => CommandErrors.Run(() => Run(r.GetValue(model)!.FullName, r.GetValue(output)?.FullName, r.GetValue(backward),
            r.GetValue(freeze)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
            r.GetValue(phase) is { } p ? VizArguments.ParsePhase(p) : null, r.GetValue(rankdir)!, VizArguments.ParseShape(r.GetValue(inputShape)), r.GetValue(showFrozen))));
        return command;
    }

    /// <summary>Writes the diagram (or, with <paramref name="backward"/>, the backward graph) to <paramref name="outputPath"/>, or prints its DOT when that is null.</summary>
    public static int Run(string modelPath, string? outputPath, bool backward = false, IReadOnlyCollection<string>? freeze = null,
                          Phase? phase = null, string rankdir = "LR", IReadOnlyList<int>? inputShape = null, bool showFrozen = false)
    {
        if (!backward && freeze is { Count: > 0 }) throw new ArgumentException("--freeze goes with --backward: it changes the backward graph, not the layers.");
        string dot;
        if (OnnxSummary.IsOnnx(modelPath))
            dot = OnnxGraphs.Draw(modelPath, backward, freeze ?? [], showFrozen, rankdir, inputShape, phase is not null);
        else if (KerasModels.TryLoad(modelPath, "graph") is { } keras)
        {
            if (phase is not null || inputShape is not null) throw new ArgumentException($"--phase and --input-shape are for prototxt nets; the Keras model {modelPath} has one phase and declares its input.");
            dot = backward ? KerasGraphs.BackwardDot(keras, freeze ?? [], showFrozen) : KerasGraphs.LayerDot(keras, rankdir);
            if (backward) Console.Error.WriteLine($"Backward graph of Keras model '{keras.Name}'" + (freeze is { Count: > 0 } ? $"; frozen: {string.Join(", ", freeze)}." : "."));
        }
        else if (backward)
        {
            var graph = BackwardGraph.Of(CaffeInspection.ReadNet(modelPath), freeze, inputShape, Path.GetDirectoryName(modelPath), showFrozen);
            dot = graph.Dot;
            Console.Error.WriteLine($"Backward graph: {graph.Nodes} nodes, {graph.TrainableLeaves} trainable parameters (AccumulateGrad)"
                + (freeze is { Count: > 0 } ? $"; frozen: {string.Join(", ", freeze)}." : "."));
        }
        else dot = NetDiagram.ToDot(CaffeInspection.ReadNet(modelPath), new NetDiagramOptions { RankDir = rankdir, Phase = phase });
        if (outputPath is null)
        {
            Console.Write(dot);
            return 0;
        }
        GraphFile written;
        try { written = Graphviz.Save(dot, outputPath); }
        catch (InvalidOperationException e) { throw new IOException(e.Message, e); }
        Console.WriteLine(written.Message);
        return 0;
    }
}
