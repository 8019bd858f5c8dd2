using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Backprop.Caffe;
using Backprop.Caffe.Layers;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop time --model M --iterations N</c>, as <c>caffe time</c>: per-layer forward and backward times, their
/// averages, and the total (per node for an ONNX file, <see cref="OnnxTime"/>). A deploy net's inputs (Input layers, or the old net-level input fields) get random values
/// of their declared shapes.
/// </summary>
internal static class TimeCommand
{
    public static Command Create()
    {
        var model = CaffeArguments.Flag<FileInfo>("--model", "The net prototxt, or an ONNX graph (.onnx: per-node times, training mode).");
        model.Required = true;
        var iterations = CaffeArguments.Flag<int>("--iterations", "Forward-backward passes to time.");
        iterations.DefaultValueFactory = _ => 50;
        var (phase, level, stage, gpu) = (CaffeArguments.Phase("TRAIN"), CaffeArguments.Level(), CaffeArguments.Stage(), CaffeArguments.Gpu());
        var command = new Command("time", "Time each layer's forward and backward pass.") { model, iterations, phase, level, stage, gpu };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            CaffeArguments.NoteGpu(result.GetValue(gpu));
            if (OnnxSummary.IsOnnx(result.GetValue(model)!.FullName)) return OnnxTime.Time(result.GetValue(model)!.FullName, result.GetValue(iterations), Console.Out);
            var state = CaffeArguments.State(result.GetValue(phase)!, result.GetValue(level), result.GetValue(stage));
            return Time(result.GetValue(model)!, result.GetValue(iterations), state, Console.Out);
        }));
        return command;
    }

    internal static int Time(FileInfo modelFile, int iterations, Caffe.Proto.NetState state, TextWriter output)
    {
        if (iterations < 1) throw new ArgumentException($"--iterations must be positive, got {iterations}.");
        var definition = NetUpgrade.ReadTextFile(modelFile.FullName);
        var context = new NetContext(state.Phase) { BaseDirectory = modelFile.FullName };
        var net = CaffeNet.Build(definition, state, new Generator(0), context);
        FillInputs(net, context, new Generator(1));
        int layers = net.Layers.Count;
        var forward = new double[layers];
        var backward = new double[layers];
        double totalForward = 0, totalBackward = 0;
        var memory = new TensorMemoryPool();   // as the solver does: each iteration reuses the last one's buffers
        long allocatedBefore = 0;
        var collectionsBefore = new int[3];
        var total = new Stopwatch();
        output.WriteLine("*** Benchmark begins ***");
        output.WriteLine(Invariant($"Testing for {iterations} iterations."));
        for (int i = -1; i < iterations; i++)   // iteration -1 warms up and is not counted
        {
            if (i == 0)
            {
                allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                for (int gen = 0; gen < 3; gen++) collectionsBefore[gen] = GC.CollectionCount(gen);
                total.Start();
            }
            var iteration = Stopwatch.StartNew();
            using (memory.Scope())
            {
                context.Iteration = i;
                var lastNode = new long[layers];
                var f = Stopwatch.StartNew();
                var result = net.Forward(context, (l, t, seq) => { if (i >= 0) forward[l] += t.TotalMilliseconds; lastNode[l] = seq; });
                if (i >= 0) totalForward += f.Elapsed.TotalMilliseconds;
                var top = BackwardStart(result);
                if (top is not null)
                {
                    var b = Stopwatch.StartNew();
                    Autograd.Autograd.Backward(top, onNodeRun: (node, t) =>
                    {
                        if (i < 0 || node is Autograd.AccumulateGrad) return;
                        int layer = Array.FindIndex(lastNode, s => node.SequenceNumber <= s);
                        if (layer >= 0) backward[layer] += t.TotalMilliseconds;
                    });
                    if (i >= 0) totalBackward += b.Elapsed.TotalMilliseconds;
                    foreach (var p in net.Parameters) p.ZeroGrad(setToNone: false);
                }
            }
            if (i >= 0) output.WriteLine(Invariant($"Iteration: {i + 1} forward-backward time: {iteration.Elapsed.TotalMilliseconds:F3} ms."));
        }
        total.Stop();
        double totalMs = total.Elapsed.TotalMilliseconds;
        output.WriteLine(Invariant($"Average time per layer ({state.Phase}): "));
        for (int l = 0; l < layers; l++)
        {
            output.WriteLine(Invariant($"{net.Layers[l].Name,10}\tforward: {forward[l] / iterations:F5} ms."));
            output.WriteLine(Invariant($"{net.Layers[l].Name,10}\tbackward: {backward[l] / iterations:F5} ms."));
        }
        output.WriteLine(Invariant($"Average Forward pass: {totalForward / iterations:F5} ms."));
        output.WriteLine(Invariant($"Average Backward pass: {totalBackward / iterations:F5} ms."));
        output.WriteLine(Invariant($"Average Forward-Backward: {totalMs / iterations:F5} ms."));
        output.WriteLine(Invariant($"Total Time: {totalMs:F3} ms."));
        output.WriteLine("*** Benchmark ends ***");
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var collections = Enumerable.Range(0, 3).Select(gen => GC.CollectionCount(gen) - collectionsBefore[gen]).ToArray();
        output.WriteLine(Invariant($"Allocated per iteration: {allocated / 1024.0 / iterations:F1} KB (tensor memory reused: {memory.BytesHeld / 1048576.0:F1} MB); ") +
                         Invariant($"garbage collections over the {iterations} iterations: gen0 {collections[0]}, gen1 {collections[1]}, gen2 {collections[2]}."));
        return 0;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// What backward starts from: the loss, or for a net without one (a deploy net) the sum of its outputs, so the
    /// layers with weights still run their backward as in <c>caffe time</c>. Null when nothing needs a gradient.
    /// </summary>
    private static Tensor? BackwardStart(NetResult result)
    {
        if (result.Loss is not null) return result.Loss.RequiresGrad ? result.Loss : null;
        Tensor? sum = null;
        foreach (var o in result.Outputs.Where(o => o.Value.RequiresGrad))
            sum = sum is null ? o.Value.Sum() : sum + o.Value.Sum();
        return sum;
    }

    /// <summary>
    /// Random values for the Input layers' tops, drawn once, of their declared shapes: standard normal, except a blob
    /// read as labels (a later bottom of a loss or accuracy layer), which gets zeros, a valid label for any class count.
    /// </summary>
    internal static void FillInputs(CaffeNet net, NetContext context, Generator generator)
    {
        for (int l = 0; l < net.Layers.Count; l++)
        {
            if (net.Layers[l] is not InputLayer) continue;
            foreach (var top in net.Connections(l).Tops)
            {
                int[] shape = net.BlobShapes[top].ToArray();
                context.Inputs[top] = IsLabel(net, top) ? Tensor.Zeros(shape) : Tensor.Randn(generator, shape);
            }
        }
    }

    private static bool IsLabel(CaffeNet net, string blob)
    {
        for (int l = 0; l < net.Layers.Count; l++)
        {
            var bottoms = net.Connections(l).Bottoms;
            for (int i = 1; i < bottoms.Count; i++)
                if (bottoms[i] == blob && (net.Layers[l].IsLoss || net.Layers[l].Type == "Accuracy")) return true;
        }
        return false;
    }
}
