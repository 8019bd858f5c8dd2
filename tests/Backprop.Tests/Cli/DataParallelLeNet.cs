using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Backprop.Caffe;
using Backprop.Caffe.Lmdb;
using Backprop.Tests.Caffe;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

/// <summary>
/// Files for LeNet runs under MPI: a small generated MNIST-format data set (640 training and 200 test images of
/// 28x28, each class a bright patch at its own place on noise, some test labels wrong) in LMDB,
/// Caffe's LeNet net at a given batch size, and solvers; plus the single-process reference run with batch 16
/// (run once, on first use), which the data-parallel runs are compared with.
/// </summary>
public sealed partial class DataParallelLeNet : IDisposable
{
    public const int Iterations = 100;
    private readonly TempDirectory dir = new();
    private readonly Lazy<string> reference;

    public DataParallelLeNet()
    {
        WriteMnist("train", 640, seed: 1, wrongLabels: false);
        WriteMnist("test", 200, seed: 2, wrongLabels: true);
        reference = new Lazy<string>(RunReference);
    }

    public string Path => dir.Path;

    public string File(string name) => dir.File(name);

    public void Dispose() => dir.Dispose();

    /// <summary>The single-process run with batch 16: its output (its snapshots are <c>one_iter_50</c> and <c>one_iter_100</c>).</summary>
    public string Reference => reference.Value;

    /// <summary>A LeNet solver reading <paramref name="batch"/> records per pass, snapshotting every 50 iterations to <paramref name="prefix"/>.</summary>
    public string Solver(int batch, string prefix, string extra = "")
    {
        string net = File($"lenet_b{batch}.prototxt");
        if (!System.IO.File.Exists(net))
            System.IO.File.WriteAllText(net, LenetPrototxts.TrainTest
                .Replace("examples/mnist/mnist_train_lmdb", File("train_lmdb")).Replace("examples/mnist/mnist_test_lmdb", File("test_lmdb"))
                .Replace("batch_size: 64", $"batch_size: {batch}"));
        string solver = File($"{prefix}_solver.prototxt");
        System.IO.File.WriteAllText(solver, $"""
            net: "{net}"
            test_iter: 2 test_interval: {Iterations}
            base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005
            lr_policy: "inv" gamma: 0.0001 power: 0.75
            display: 25 max_iter: {Iterations} snapshot: 50 snapshot_prefix: "{File(prefix)}" random_seed: 1
            {extra}
            """);
        return solver;
    }

    private string RunReference()
    {
        using var one = CliMpiJob.Single("train", "--solver", Solver(16, "one"));
        Assert.True(one.WaitForExit(60) == 0, one.Output);
        return one.Output;
    }

    /// <summary>Every blob of a .caffemodel, in order.</summary>
    public static List<float[]> Blobs(string caffemodel) =>
        [.. Snapshots.ReadModel(caffemodel).Layer.SelectMany(l => l.Blobs).Select(b => b.Data.ToArray())];

    /// <summary>The largest difference of any blob relative to that blob's largest magnitude.</summary>
    public static double MaxRelativeDifference(List<float[]> expected, List<float[]> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        double worst = 0;
        for (int b = 0; b < expected.Count; b++)
        {
            Assert.Equal(expected[b].Length, actual[b].Length);
            double scale = expected[b].Max(v => Math.Abs((double)v)), diff = 0;
            for (int i = 0; i < expected[b].Length; i++) diff = Math.Max(diff, Math.Abs((double)expected[b][i] - actual[b][i]));
            worst = Math.Max(worst, diff / scale);
        }
        return worst;
    }

    /// <summary>The first 16 hex digits of the SHA-256 of the blobs' float bytes, as the solver's weights digest.</summary>
    public static string Digest(List<float[]> blobs)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var blob in blobs) hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(blob.AsSpan()));
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>The value of <c>Final test accuracy: X</c> in a run's output.</summary>
    public static double FinalAccuracy(string output) =>
        double.Parse(AccuracyLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Final test accuracy: ([0-9.]+)")]
    private static partial Regex AccuracyLine();

    // Class c is a bright 7x5 patch at cell (c mod 5, c / 5) of a 5x2 grid, on noise. In the test set one label in
    // five is random, so accuracy stays below 1 and a difference in the predictions would show in it. The training
    // labels are all right: wrong ones make training chaotic, and there the rounding differences between one sum
    // of 16 gradients and two sums of 8 grow tenfold every few iterations (1e-6 at iteration 40, 1e-2 at 90).
    private void WriteMnist(string split, int count, int seed, bool wrongLabels)
    {
        var random = new Random(seed);
        var images = new byte[16 + count * 784];
        var labels = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);
        for (int n = 0; n < count; n++)
        {
            int label = random.Next(10);
            labels[8 + n] = (byte)(wrongLabels && random.Next(5) == 0 ? random.Next(10) : label);
            var image = images.AsSpan(16 + n * 784, 784);
            for (int i = 0; i < 784; i++) image[i] = (byte)random.Next(100);
            int top = 2 + (label / 5) * 13 + random.Next(3), left = 1 + (label % 5) * 5 + random.Next(2);
            for (int y = top; y < Math.Min(28, top + 7); y++)
                for (int x = left; x < Math.Min(28, left + 5); x++) image[y * 28 + x] = (byte)(200 + random.Next(56));
        }
        System.IO.File.WriteAllBytes(File($"{split}-images-idx3-ubyte"), images);
        System.IO.File.WriteAllBytes(File($"{split}-labels-idx1-ubyte"), labels);
        MnistToLmdb.Convert(File($"{split}-images-idx3-ubyte"), File($"{split}-labels-idx1-ubyte"), File($"{split}_lmdb"));
    }
}
