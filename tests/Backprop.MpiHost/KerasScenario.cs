using System.Runtime.InteropServices;
using Backprop.Keras;

namespace Backprop.MpiHost;

/// <summary>
/// Keras's Fit under mpirun, with no distributed code in the script: "keras OUT". Prints one "progress" line per
/// report it gets and the final loss, writes OUT/log.csv through a CsvLogger and its weights to OUT/keras.rankR.bin
/// (R from the launcher's environment).
/// </summary>
internal static class KerasScenario
{
    public static int Run(string[] args)
    {
        string output = args[0];
        int rank = Distributed.Mpi.MpiLauncher.WorldRank;
        // A different seed per rank: Fit must copy rank 0's weights to the others.
        var model = new Sequential((ulong)(3 + rank),
            new Conv2D(4, (3, 3), inputShape: (10, 10, 1), activation: "relu"), new Flatten(), new Dense(5, activation: "softmax"));
        model.Compile("sgd", "sparse_categorical_crossentropy", ["accuracy"]);
        var g = new Generator(9);
        var x = Tensor.Randn(g, 50, 10, 10, 1);
        var y = Enumerable.Range(0, 50).Select(_ => g.NextInt(5)).ToArray();
        var progress = new Progress(rank);
        var history = model.Fit(x, y, batchSize: 8, epochs: 2, callbacks: [new CsvLogger(Path.Combine(output, "log.csv"))], progress: progress);
        Console.WriteLine($"rank {rank}: {progress.Reports} progress reports, final loss {history.Loss[^1]:R}");
        var weights = model.Network.Parameters().SelectMany(p => p.ToArray()).ToArray();
        File.WriteAllBytes(Path.Combine(output, $"keras.rank{rank}.bin"), MemoryMarshal.AsBytes(weights.AsSpan()).ToArray());
        return 0;
    }

    private sealed class Progress(int rank) : IProgress<EpochProgress>
    {
        public int Reports { get; private set; }

        public void Report(EpochProgress value)
        {
            Reports++;
            if (value.Kind == ProgressKind.EpochEnd) Console.WriteLine($"progress rank {rank}: epoch {value.Epoch} step {value.Step}/{value.Steps}");
        }
    }
}
