using System.CommandLine;
using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Cli;

/// <summary><c>backprop test --model M --weights W --iterations N</c>, as <c>caffe test</c>: scores a trained net in the TEST phase.</summary>
public static class TestCommand
{
    internal static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The net prototxt.", Required = true };
        var weights = new Option<FileInfo>("--weights") { Description = "The trained .caffemodel.", Required = true };
        var iterations = new Option<int>("--iterations") { Description = "Number of batches.", DefaultValueFactory = _ => 50 };
        var allowNonFinite = WeightsArguments.AllowNonFinite();
        var command = new Command("test", "Score a trained net on its TEST-phase data.") { model, weights, iterations, allowNonFinite };
        command.SetAction(result => CommandErrors.Run(() =>
            Run(result.GetValue(model)!.FullName, result.GetValue(weights)!.FullName, result.GetValue(iterations), result.GetValue(allowNonFinite))));
        return command;
    }

    /// <summary>Scores the TEST net of <paramref name="modelPath"/> with the weights of <paramref name="weightsPath"/> over <paramref name="iterations"/> batches; returns 0.</summary>
    public static int Run(string modelPath, string weightsPath, int iterations, bool allowNonFiniteWeights = false)
    {
        if (iterations < 1) throw new ArgumentException($"--iterations must be positive, got {iterations}.");
        var definition = NetUpgrade.ReadTextFile(modelPath);
        var context = new NetContext(Phase.Test) { BaseDirectory = modelPath };
        var net = CaffeNet.Build(definition, new NetState { Phase = Phase.Test }, new Generator(0), context);
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
