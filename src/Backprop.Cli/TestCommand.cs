using System.CommandLine;
using Backprop.Caffe;
using Backprop.Caffe.Proto;

namespace Backprop.Cli;

/// <summary><c>backprop test --model M --weights W --iterations N</c>, as <c>caffe test</c>: scores a trained net in the TEST phase.</summary>
public static class TestCommand
{
    internal static Command Create()
    {
        var model = CaffeArguments.Flag<FileInfo>("--model", "The net prototxt.");
        model.Required = true;
        var weights = CaffeArguments.Flag<FileInfo>("--weights", "The trained .caffemodel.");
        weights.Required = true;
        var iterations = CaffeArguments.Flag<int>("--iterations", "Number of batches.");
        iterations.DefaultValueFactory = _ => 50;
        var allowNonFinite = WeightsArguments.AllowNonFinite();
        var (phase, level, stage, gpu) = (CaffeArguments.Phase("TEST"), CaffeArguments.Level(), CaffeArguments.Stage(), CaffeArguments.Gpu());
        var command = new Command("test", "Score a trained net on its TEST-phase data.") { model, weights, iterations, allowNonFinite, phase, level, stage, gpu };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            CaffeArguments.NoteGpu(result.GetValue(gpu));
            var state = CaffeArguments.State(result.GetValue(phase)!, result.GetValue(level), result.GetValue(stage));
            return Run(result.GetValue(model)!.FullName, result.GetValue(weights)!.FullName, result.GetValue(iterations), result.GetValue(allowNonFinite), state);
        }));
        return command;
    }

    /// <summary>
    /// Scores the net of <paramref name="modelPath"/> in <paramref name="state"/> (the TEST phase by default) with the
    /// weights of <paramref name="weightsPath"/> over <paramref name="iterations"/> batches; returns 0.
    /// </summary>
    public static int Run(string modelPath, string weightsPath, int iterations, bool allowNonFiniteWeights = false, NetState? state = null)
    {
        if (iterations < 1) throw new ArgumentException($"--iterations must be positive, got {iterations}.");
        state ??= new NetState { Phase = Phase.Test };
        var definition = NetUpgrade.ReadTextFile(modelPath);
        var context = new NetContext(state.Phase) { BaseDirectory = modelPath };
        var net = CaffeNet.Build(definition, state, new Generator(0), context);
        net.CopyTrainedLayersFrom(Snapshots.ReadModel(weightsPath), weightsPath, WeightsArguments.ToConsole(allowNonFiniteWeights));
        var sums = new Dictionary<string, double>();
        var weightsOf = new Dictionary<string, float>();
        var memory = new TensorMemoryPool();
        using (Autograd.Autograd.NoGrad())
            for (int i = 0; i < iterations; i++)
            {
                using var step = memory.Scope();
                net.DataLayer?.Seek((long)i * net.DataLayer.BatchSize);
                context.Iteration = i;
                var result = net.Forward(context);
                var parts = new List<string>();
                foreach (var o in result.Outputs)
                {
                    float v = o.Value.Length == 1 ? o.Value.Item() : o.Value.Mean().Item();
                    sums[o.Name] = sums.GetValueOrDefault(o.Name) + v;
                    weightsOf[o.Name] = o.LossWeight;
                    parts.Add($"{o.Name} = {v:G6}");
                }
                Console.WriteLine($"Batch {i}, {string.Join(", ", parts)}");
            }
        foreach (var name in net.OutputNames.Where(sums.ContainsKey))
        {
            double mean = sums[name] / iterations;
            string loss = weightsOf[name] != 0 ? $" (* {weightsOf[name]:G6} = {mean * weightsOf[name]:G6} loss)" : "";
            Console.WriteLine($"{name} = {mean:G6}{loss}");
        }
        return 0;
    }
}
