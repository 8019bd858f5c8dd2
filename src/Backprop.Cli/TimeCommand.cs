using System.CommandLine;
using System.Diagnostics;
using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Cli;

/// <summary><c>backprop time --model M --iterations N</c>, as <c>caffe time</c>: per-layer forward and backward times.</summary>
internal static class TimeCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The net prototxt.", Required = true };
        var iterations = new Option<int>("--iterations") { Description = "Forward-backward passes to time.", DefaultValueFactory = _ => 50 };
        var phase = new Option<string>("--phase") { Description = "TRAIN or TEST.", DefaultValueFactory = _ => "TRAIN" };
        var command = new Command("time", "Time each layer's forward and backward pass.") { model, iterations, phase };
        command.SetAction(result => CommandErrors.Run(() =>
            Time(result.GetValue(model)!, result.GetValue(iterations), result.GetValue(phase)!)));
        return command;
    }

    private static int Time(FileInfo modelFile, int iterations, string phaseName)
    {
        if (iterations < 1) throw new ArgumentException($"--iterations must be positive, got {iterations}.");
        var phase = phaseName.ToUpperInvariant() switch
        {
            "TRAIN" => Phase.Train,
            "TEST" => Phase.Test,
            _ => throw new ArgumentException($"--phase must be TRAIN or TEST, got '{phaseName}'."),
        };
        var definition = Prototxt.ParseFile<NetParameter>(modelFile.FullName);
        var context = new NetContext(phase) { BaseDirectory = modelFile.FullName };
        var net = CaffeNet.Build(definition, new NetState { Phase = phase }, new Generator(0), context);
        int layers = net.Layers.Count;
        var forward = new double[layers];
        var backward = new double[layers];
        var total = Stopwatch.StartNew();
        double totalForward = 0, totalBackward = 0;
        var memory = new TensorMemoryPool();   // as the solver does: each iteration reuses the last one's buffers
        long allocatedBefore = 0;
        var collectionsBefore = new int[3];
        for (int i = -1; i < iterations; i++)   // iteration -1 warms up and is not counted
        {
            if (i == 0)
            {
                allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                for (int gen = 0; gen < 3; gen++) collectionsBefore[gen] = GC.CollectionCount(gen);
            }
            using var step = memory.Scope();
            context.Iteration = i;
            var lastNode = new long[layers];
            var f = Stopwatch.StartNew();
            var result = net.Forward(context, (l, t, seq) => { if (i >= 0) forward[l] += t.TotalMilliseconds; lastNode[l] = seq; });
            if (i >= 0) totalForward += f.Elapsed.TotalMilliseconds;
            if (result.Loss is null || !result.Loss.RequiresGrad) continue;
            var b = Stopwatch.StartNew();
            Autograd.Autograd.Backward(result.Loss, onNodeRun: (node, t) =>
            {
                if (i < 0 || node is Autograd.AccumulateGrad) return;
                int layer = Array.FindIndex(lastNode, s => node.SequenceNumber <= s);
                if (layer >= 0) backward[layer] += t.TotalMilliseconds;
            });
            if (i >= 0) totalBackward += b.Elapsed.TotalMilliseconds;
            foreach (var p in net.Parameters) p.ZeroGrad(setToNone: false);
        }
        Console.WriteLine($"Average time per layer over {iterations} iterations ({phase}):");
        for (int l = 0; l < layers; l++)
            Console.WriteLine($"{net.Layers[l].Name,12}\tforward: {forward[l] / iterations,9:F3} ms.\tbackward: {backward[l] / iterations,9:F3} ms.");
        Console.WriteLine($"Average Forward pass: {totalForward / iterations:F3} ms.");
        Console.WriteLine($"Average Backward pass: {totalBackward / iterations:F3} ms.");
        Console.WriteLine($"Average Forward-Backward: {(totalForward + totalBackward) / iterations:F3} ms.");
        Console.WriteLine($"Total Time: {total.Elapsed.TotalMilliseconds:F0} ms.");
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var collections = Enumerable.Range(0, 3).Select(gen => GC.CollectionCount(gen) - collectionsBefore[gen]).ToArray();
        Console.WriteLine($"Allocated per iteration: {allocated / 1024.0 / iterations:F1} KB (tensor memory reused: {memory.BytesHeld / 1048576.0:F1} MB); " +
                          $"garbage collections over the {iterations} iterations: gen0 {collections[0]}, gen1 {collections[1]}, gen2 {collections[2]}.");
        return 0;
    }
}
