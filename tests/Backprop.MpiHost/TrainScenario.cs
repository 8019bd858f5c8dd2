using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Backprop.Data;
using Backprop.Distributed;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.MpiHost;

/// <summary>
/// A small conv net trained on seeded random records with <see cref="DistributedDataParallel"/> (or, with --single,
/// alone on the same records); each rank writes its final weights to OUT/weights.rankR.bin.
/// Options: --batch B, --iters N, --single, --blocking, --bucket BYTES, --throw-at R:I, --kill-at R:I, --extra-layer-on R.
/// </summary>
internal static class TrainScenario
{
    private const int Records = 96;

    public static int Run(string[] args)
    {
        string output = args[0];
        var options = Options.Parse(args[1..]);
        int batch = options.Int("--batch", 4), iterations = options.Int("--iters", 20);
        var (throwRank, throwAt) = options.Pair("--throw-at");
        var (killRank, killAt) = options.Pair("--kill-at");
        var dataset = MakeDataset();
        if (options.Has("--single"))
        {
            var alone = Train(MakeModel(0, extraLayer: false), null, new DistributedSampler(Records, 0, 1, seed: 5), dataset, batch, iterations, _ => { });
            WriteWeights(output, 0, alone);
            return 0;
        }

        var world = Communicator.Initialize();
        int rank = world.Rank;
        var model = MakeModel(rank, extraLayer: options.Int("--extra-layer-on", -1) == rank);
        DistributedDataParallel ddp;
        try
        {
            ddp = new DistributedDataParallel(model, world, options.Int("--bucket", 2048), overlap: !options.Has("--blocking"));
        }
        catch (MpiException e)
        {
            Console.Error.WriteLine($"rank {rank}: refused: {e.Message}");
            return 3;
        }
        if (world.IsRoot) Console.WriteLine($"training on {world.Description}, {ddp.BucketCount} buckets");
        int iteration = 0;
        try
        {
            Train(ddp, ddp, new DistributedSampler(Records, world, seed: 5), dataset, batch, iterations, i =>
            {
                iteration = i;
                if (rank == throwRank && i == throwAt) throw new InvalidOperationException("the scenario's planned failure");
                if (rank == killRank && i == killAt) Process.GetCurrentProcess().Kill();   // SIGKILL: no handler runs
            });
        }
        catch (Exception e)
        {
            JobFailure.Abort(world, e, $"iteration {iteration}");
        }
        WriteWeights(output, rank, model);
        return 0;
    }

    private static Module Train(Module model, DistributedDataParallel? ddp, DistributedSampler sampler, IDataset dataset, int batch,
        int iterations, Action<int> beforeIteration)
    {
        var optimizer = new Sgd(model.Parameters(), learningRate: 0.05f, momentum: 0.9f);
        var loss = new CrossEntropyLoss();
        int i = 0;
        foreach (var b in new DataLoader(dataset, batch, cycle: true, prefetch: 0, sampler: sampler))
        {
            if (i == iterations) break;
            beforeIteration(i);
            optimizer.ZeroGrad();
            loss.Forward(model.Forward(b.Images), b.Labels).Backward();
            ddp?.FinishGradientSync();
            optimizer.Step();
            i++;
        }
        return ddp?.Module ?? model;
    }

    /// <summary>A seeded model: a different seed per rank, so only DistributedDataParallel's broadcast makes them equal.</summary>
    internal static Module MakeModel(int rank, bool extraLayer)
    {
        var g = new Generator(100 + (ulong)rank);
        var model = new Sequential(new Conv2d(1, 6, 3, generator: g), new Relu(), new MaxPool2d(2),
            new Conv2d(6, 8, 3, generator: g), new Relu(), new Flatten(), new Linear(8 * 3 * 3, 10, generator: g));
        if (extraLayer) model.Add(new Linear(10, 10, generator: g));
        return model;
    }

    private static TensorDataset MakeDataset()
    {
        var g = new Generator(7);
        var values = new float[Records * 144];
        g.FillNormal(values, 0, 1);
        var labels = Enumerable.Range(0, Records).Select(_ => g.NextInt(10)).ToArray();
        return new TensorDataset(values, new Shape(1, 12, 12), labels);
    }

    private static void WriteWeights(string directory, int rank, Module model)
    {
        var values = model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        File.WriteAllBytes(Path.Combine(directory, $"weights.rank{rank}.bin"), MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }
}

/// <summary>"--name value" and "--flag" options.</summary>
internal sealed class Options(Dictionary<string, string> values)
{
    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        for (int i = 0; i < args.Length; i++)
            values[args[i]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
        return new Options(values);
    }

    public bool Has(string name) => values.ContainsKey(name);

    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public (int Rank, int Iteration) Pair(string name)
    {
        if (!values.TryGetValue(name, out var v)) return (-1, -1);
        var parts = v.Split(':');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
