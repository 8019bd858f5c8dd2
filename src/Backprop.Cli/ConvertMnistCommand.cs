using System.CommandLine;
using Backprop.Caffe.LevelDb;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Data;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop convert-mnist</c>, in two forms. With no arguments, what Caffe's create_mnist.sh does: fetch MNIST (into
/// the data cache) and write <c>mnist_train_lmdb</c> and <c>mnist_test_lmdb</c> (<c>mnist_*_leveldb</c> with
/// <c>--backend leveldb</c>; existing databases are kept). With <c>IMAGES LABELS OUTDB</c>, what Caffe's
/// <c>convert_mnist_data</c> does: one IDX pair to one database. Both write records exactly as convert_mnist_data does.
/// </summary>
internal static class ConvertMnistCommand
{
    public static Command Create()
    {
        var images = new Argument<FileInfo?>("images") { Description = "An MNIST images IDX file (plain or gzipped); with labels and outdb, converts just this pair.", Arity = ArgumentArity.ZeroOrOne };
        var labels = new Argument<FileInfo?>("labels") { Description = "The matching labels IDX file.", Arity = ArgumentArity.ZeroOrOne };
        var database = new Argument<DirectoryInfo?>("outdb") { Description = "The database to write.", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<DirectoryInfo>("--output") { Description = "Without arguments: folder for the two databases (mnist_train_lmdb and mnist_test_lmdb, or *_leveldb).", DefaultValueFactory = _ => new DirectoryInfo("examples/mnist") };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Dataset cache (default: $BACKPROP_DATA or ~/.backprop/data)." };
        var force = new Option<bool>("--force") { Description = "Rewrite databases that already exist." };
        var backend = Backend();
        var command = new Command("convert-mnist", "Write MNIST as Caffe LMDB or LevelDB databases: fetch both splits, or convert one IDX pair (IMAGES LABELS OUTDB).")
        {
            images, labels, database, output, dataDir, force, backend,
        };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var format = ParseBackend(result.GetValue(backend)!);
            var (i, l, d) = (result.GetValue(images), result.GetValue(labels), result.GetValue(database));
            if (i is null) return Convert(result.GetValue(output)!, result.GetValue(dataDir), result.GetValue(force), format);
            if (l is null || d is null)
                throw new ArgumentException("Give all three of IMAGES LABELS OUTDB (as Caffe's convert_mnist_data), or none to fetch MNIST and write both splits under --output.");
            return ConvertPair(i, l, d, result.GetValue(force), format);
        }));
        return command;
    }

    /// <summary>Caffe's <c>--backend</c> (<c>-backend</c>): lmdb, the default, or leveldb (through the system's LevelDB library).</summary>
    internal static Option<string> Backend()
    {
        var option = CaffeArguments.Flag<string>("--backend", "The database format: lmdb (the default) or leveldb (needs the system's LevelDB library, Debian: libleveldb1d).");
        option.DefaultValueFactory = _ => "lmdb";
        return option;
    }

    /// <summary>The database format <paramref name="backend"/> names (any case), as data_param's backend.</summary>
    internal static DataParameter.Types.DB ParseBackend(string backend) => backend.ToLowerInvariant() switch
    {
        "lmdb" => DataParameter.Types.DB.Lmdb,
        "leveldb" => DataParameter.Types.DB.Leveldb,
        _ => throw new ArgumentException($"--backend must be lmdb or leveldb, got '{backend}'."),
    };

    private static int ConvertPair(FileInfo images, FileInfo labels, DirectoryInfo database, bool force, DataParameter.Types.DB format)
    {
        Console.WriteLine($"Converting {images.FullName} and {labels.FullName} to {database.FullName} ...");
        int count = ConvertOne(images.FullName, labels.FullName, database.FullName, force, format);
        Console.WriteLine($"Wrote {count} records to {database.FullName}.");
        return 0;
    }

    private static int ConvertOne(string images, string labels, string database, bool force, DataParameter.Types.DB format) =>
        format == DataParameter.Types.DB.Leveldb
            ? MnistToLevelDb.Convert(images, labels, database, overwrite: force)
            : MnistToLmdb.Convert(images, labels, database, overwrite: force);

    private static int Convert(DirectoryInfo output, DirectoryInfo? dataDir, bool force, DataParameter.Types.DB format)
    {
        var log = new Progress<string>(Console.WriteLine);
        bool leveldb = format == DataParameter.Types.DB.Leveldb;
        string suffix = leveldb ? "leveldb" : "lmdb";   // Caffe's create_mnist.sh names them mnist_train_$BACKEND
        foreach (var (split, name) in new[] { (MnistSplit.Train, $"mnist_train_{suffix}"), (MnistSplit.Test, $"mnist_test_{suffix}") })
        {
            string target = Path.Combine(output.FullName, name);
            if (!force && File.Exists(Path.Combine(target, leveldb ? "CURRENT" : "data.mdb")))
            {
                Console.WriteLine($"{target} exists; keeping it (--force rewrites it).");
                continue;
            }
            var files = Mnist.EnsureFiles(split, dataDir?.FullName, log);
            Console.WriteLine($"Converting {files.ImagesPath} to {target} ...");
            int count = ConvertOne(files.ImagesPath, files.LabelsPath, target, force, format);
            Console.WriteLine($"Wrote {count} records to {target}.");
        }
        return 0;
    }
}
