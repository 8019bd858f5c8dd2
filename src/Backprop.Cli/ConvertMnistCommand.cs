using System.CommandLine;
using Backprop.Caffe.Lmdb;
using Backprop.Data;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop convert-mnist</c>, in two forms. With no arguments, what Caffe's create_mnist.sh does: fetch MNIST (into
/// the data cache) and write <c>mnist_train_lmdb</c> and <c>mnist_test_lmdb</c> (existing databases are kept). With
/// <c>IMAGES LABELS OUTDB</c>, what Caffe's <c>convert_mnist_data</c> does: one IDX pair to one database.
/// Both write records exactly as convert_mnist_data does.
/// </summary>
internal static class ConvertMnistCommand
{
    public static Command Create()
    {
        var images = new Argument<FileInfo?>("images") { Description = "An MNIST images IDX file (plain or gzipped); with labels and outdb, converts just this pair.", Arity = ArgumentArity.ZeroOrOne };
        var labels = new Argument<FileInfo?>("labels") { Description = "The matching labels IDX file.", Arity = ArgumentArity.ZeroOrOne };
        var database = new Argument<DirectoryInfo?>("outdb") { Description = "The database to write.", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<DirectoryInfo>("--output") { Description = "Without arguments: folder for the two LMDB databases.", DefaultValueFactory = _ => new DirectoryInfo("examples/mnist") };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Dataset cache (default: $BACKPROP_DATA or ~/.backprop/data)." };
        var force = new Option<bool>("--force") { Description = "Rewrite databases that already exist." };
        var backend = Backend();
        var command = new Command("convert-mnist", "Write MNIST as Caffe LMDB databases: fetch both splits, or convert one IDX pair (IMAGES LABELS OUTDB).")
        {
            images, labels, database, output, dataDir, force, backend,
        };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            CheckBackend(result.GetValue(backend)!);
            var (i, l, d) = (result.GetValue(images), result.GetValue(labels), result.GetValue(database));
            if (i is null) return Convert(result.GetValue(output)!, result.GetValue(dataDir), result.GetValue(force));
            if (l is null || d is null)
                throw new ArgumentException("Give all three of IMAGES LABELS OUTDB (as Caffe's convert_mnist_data), or none to fetch MNIST and write both splits under --output.");
            return ConvertPair(i, l, d, result.GetValue(force));
        }));
        return command;
    }

    /// <summary>Caffe's <c>--backend</c> (<c>-backend</c>): lmdb, the default; leveldb is named but not written yet.</summary>
    internal static Option<string> Backend()
    {
        var option = CaffeArguments.Flag<string>("--backend", "The database format: lmdb (leveldb is not yet supported).");
        option.DefaultValueFactory = _ => "lmdb";
        return option;
    }

    internal static void CheckBackend(string backend)
    {
        switch (backend.ToLowerInvariant())
        {
            case "lmdb": return;
            case "leveldb": throw new ArgumentException("--backend leveldb is not yet supported; Backprop writes LMDB (--backend lmdb, the default).");
            default: throw new ArgumentException($"--backend must be lmdb or leveldb, got '{backend}'.");
        }
    }

    private static int ConvertPair(FileInfo images, FileInfo labels, DirectoryInfo database, bool force)
    {
        Console.WriteLine($"Converting {images.FullName} and {labels.FullName} to {database.FullName} ...");
        int count = MnistToLmdb.Convert(images.FullName, labels.FullName, database.FullName, overwrite: force);
        Console.WriteLine($"Wrote {count} records to {database.FullName}.");
        return 0;
    }

    private static int Convert(DirectoryInfo output, DirectoryInfo? dataDir, bool force)
    {
        var log = new Progress<string>(Console.WriteLine);
        foreach (var (split, name) in new[] { (MnistSplit.Train, "mnist_train_lmdb"), (MnistSplit.Test, "mnist_test_lmdb") })
        {
            string target = Path.Combine(output.FullName, name);
            if (!force && File.Exists(Path.Combine(target, "data.mdb")))
            {
                Console.WriteLine($"{target} exists; keeping it (--force rewrites it).");
                continue;
            }
            var files = Mnist.EnsureFiles(split, dataDir?.FullName, log);
            Console.WriteLine($"Converting {files.ImagesPath} to {target} ...");
            int count = MnistToLmdb.Convert(files.ImagesPath, files.LabelsPath, target, overwrite: force);
            Console.WriteLine($"Wrote {count} records to {target}.");
        }
        return 0;
    }
}
