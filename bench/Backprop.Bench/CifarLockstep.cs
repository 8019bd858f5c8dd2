using System.Globalization;
using System.Text;
using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.IO;

namespace Backprop.Bench;

/// <summary>
/// Backprop's half of the lockstep check of cifar10_quick (bench/cifar/lockstep.sh; cifar_lockstep.py is the PyTorch
/// half): builds the <see cref="CaffeSolver"/> from SOLVER, writes the train net's initial weights (its fillers' draw)
/// to DIR/init.safetensors under Caffe's blob names (conv1.0 the weights, conv1.1 the bias...), trains STEPS steps and
/// prints each step's loss and every blob's L2 norm after the update, and at the end the test accuracy. PyTorch loads the same weights and reads the
/// same batches in file order, so with the same recipe both sides' numbers agree to float rounding at first. Also
/// writes the weights after the first step as DIR/backprop_step1.safetensors for a float64 comparison, and every 50
/// steps the weights before the step and the step's gradients (without weight decay).
/// </summary>
internal static class CifarLockstep
{
    public static void Run(string solverPath, string directory, int steps)
    {
        var solver = new CaffeSolver(Prototxt.ParseFile<SolverParameter>(solverPath), solverPath);
        var blobs = solver.TrainNet.NamedParameters().ToList();
        Directory.CreateDirectory(directory);
        SafeTensors.Write(Path.Combine(directory, "init.safetensors"), Snapshot(blobs));
        Console.WriteLine("BLOBS " + string.Join(",", blobs.Select(b => b.Key)));
        for (int step = 1; step <= steps; step++)
        {
            // Every 50 steps: the step's gradients and the weights before the step ahead, before it and after it (two
            // updates: enough to recover the history and check the update), for cifar_lockstep.py --gradients.
            bool dump = step % 50 == 0;
            if (dump || (step + 1) % 50 == 0) SafeTensors.Write(Path.Combine(directory, $"backprop_before{step}.safetensors"), Snapshot(blobs));
            float loss = solver.Step(out _);
            if (dump)
            {
                SafeTensors.Write(Path.Combine(directory, $"backprop_grad{step}.safetensors"), blobs.ToDictionary(b => b.Key, b => b.Value.Grad!.Detach().Clone()));
                SafeTensors.Write(Path.Combine(directory, $"backprop_before{step + 1}.safetensors"), Snapshot(blobs));
            }
            var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"STEP backprop {step} loss={loss:R} norms="));
            line.AppendJoin(',', blobs.Select(b => Norm(b.Value).ToString("R", CultureInfo.InvariantCulture)));
            Console.WriteLine(line);
            if (step == 1) SafeTensors.Write(Path.Combine(directory, "backprop_step1.safetensors"), Snapshot(blobs));
        }
        solver.TestAll();
        float accuracy = solver.TestResults.Count > 0 ? solver.TestResults[^1].Outputs.FirstOrDefault(o => o.Name == "accuracy").Value : float.NaN;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT backprop lockstep steps={steps} test_accuracy={accuracy:F4}"));
    }

    // Copies: the solver updates its blobs in place.
    private static Dictionary<string, Tensor> Snapshot(List<KeyValuePair<string, Nn.Parameter>> blobs) =>
        blobs.ToDictionary(b => b.Key, b => b.Value.Detach().Clone());

    private static double Norm(Tensor t)
    {
        double sum = 0;
        foreach (float v in t.AsSpan()) sum += (double)v * v;
        return Math.Sqrt(sum);
    }
}
