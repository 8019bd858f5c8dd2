using System.CommandLine;
using Backprop.Caffe.Lmdb;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop synthesize-cifar --output DIR</c>: a generated CIFAR-shaped set (<see cref="SyntheticCifar"/>) written as
/// Caffe's <c>cifar10_train_lmdb</c> and <c>cifar10_test_lmdb</c> (the names create_cifar10.sh gives them), and the
/// same images as raw bytes for other frameworks: <c>{split}_images.u8</c> (N, 3, 32, 32) and <c>{split}_labels.u8</c> (N).
/// </summary>
internal static class SynthesizeCifarCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder for the two LMDB databases and the raw files.", Required = true };
        var train = new Option<int>("--train") { Description = "Training images.", DefaultValueFactory = _ => 50000 };
        var test = new Option<int>("--test") { Description = "Test images.", DefaultValueFactory = _ => 10000 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (the same seed writes the same files).", DefaultValueFactory = _ => 1 };
        var force = new Option<bool>("--force") { Description = "Rewrite databases and files that already exist." };
        var command = new Command("synthesize-cifar",
            "Write a generated CIFAR-shaped set (32x32x3, 10 classes of coloured shapes on textures) as Caffe LMDBs and raw bytes.")
            { output, train, test, seed, force };
        command.SetAction(r => CommandErrors.Run(() =>
            Write(r.GetValue(output)!.FullName, r.GetValue(train), r.GetValue(test), r.GetValue(seed), r.GetValue(force))));
        return command;
    }

    internal static int Write(string root, int trainCount, int testCount, ulong seed, bool force)
    {
        if (trainCount < 1 || testCount < 1) throw new ArgumentException($"--train and --test must be positive, got {trainCount} and {testCount}.");
        Directory.CreateDirectory(root);
        foreach (var (split, name, count) in new[] { (0, "train", trainCount), (1, "test", testCount) })
        {
            string lmdb = Path.Combine(root, $"cifar10_{name}_lmdb");
            string images = Path.Combine(root, $"{name}_images.u8"), labels = Path.Combine(root, $"{name}_labels.u8");
            if (!force && (Directory.Exists(lmdb) || File.Exists(images) || File.Exists(labels)))
                throw new IOException($"'{lmdb}' or its raw files exist; pass --force to rewrite them, or choose another --output.");
            var (pixels, labelBytes) = SyntheticCifar.Generate(count, seed, split);
            ImagesToLmdb.Write(pixels, labelBytes, SyntheticCifar.Channels, SyntheticCifar.Size, SyntheticCifar.Size, lmdb, overwrite: force);
            WriteAtomically(images, pixels);
            WriteAtomically(labels, labelBytes);
            Console.WriteLine($"Wrote {count} {name} images to {lmdb}, {images} and {labels}.");
        }
        File.WriteAllLines(Path.Combine(root, "classes.txt"), SyntheticCifar.ClassNames);
        return 0;
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        string temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }
}
