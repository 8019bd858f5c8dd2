using System.CommandLine;
using Backprop.Caffe.Lmdb;
using Backprop.Data;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop convert-mnist</c>: what Caffe's create_mnist.sh does — fetch MNIST (into the data cache) and write
/// <c>mnist_train_lmdb</c> and <c>mnist_test_lmdb</c> exactly as convert_mnist_data does. Existing databases are kept.
/// </summary>
internal static class ConvertMnistCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder for the two LMDB databases.", DefaultValueFactory = _ => new DirectoryInfo("examples/mnist") };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Dataset cache (default: $BACKPROP_DATA or ~/.backprop/data)." };
        var force = new Option<bool>("--force") { Description = "Rewrite databases that already exist." };
        var command = new Command("convert-mnist", "Fetch MNIST and write Caffe's mnist_train_lmdb and mnist_test_lmdb.") { output, dataDir, force };
        command.SetAction(result => CommandErrors.Run(() =>
            Convert(result.GetValue(output)!, result.GetValue(dataDir), result.GetValue(force))));
        return command;
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
