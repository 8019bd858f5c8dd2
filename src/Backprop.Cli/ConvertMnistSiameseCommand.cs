using System.CommandLine;
using Backprop.Caffe.LevelDb;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop convert-mnist-siamese IMAGES LABELS OUTDB</c>, as Caffe's examples/siamese convert_mnist_siamese_data:
/// an MNIST IDX pair becomes a LevelDB of as many random image pairs (2-channel Datums, label 1 for the same digit).
/// </summary>
internal static class ConvertMnistSiameseCommand
{
    public static Command Create()
    {
        var images = new Argument<FileInfo>("images") { Description = "An MNIST images IDX file (plain or gzipped)." };
        var labels = new Argument<FileInfo>("labels") { Description = "The matching labels IDX file." };
        var database = new Argument<DirectoryInfo>("outdb") { Description = "The LevelDB database to write." };
        var seed = CaffeArguments.Flag<ulong>("--seed", "Seeds the choice of pairs: the same seed gives the same pairs. They differ from the pairs Caffe's tool draws (its own generator, seeded at random).");
        var force = new Option<bool>("--force") { Description = "Rewrite a database that already exists." };
        var command = new Command("convert-mnist-siamese",
            "Write random pairs of MNIST images as a Caffe LevelDB for the siamese example: one pair per image, each a 2-channel Datum, label 1 when both digits are equal, else 0. "
            + "The pairs come from a seeded generator (--seed), so they are not Caffe's (caffe_rng_rand). Needs the system's LevelDB library (Debian: libleveldb1d).")
        {
            images, labels, database, seed, force,
        };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var (i, l, d) = (result.GetValue(images)!, result.GetValue(labels)!, result.GetValue(database)!);
            Console.WriteLine($"Pairing {i.FullName} and {l.FullName} into {d.FullName} ...");
            int count = MnistSiameseToLevelDb.Convert(i.FullName, l.FullName, d.FullName, result.GetValue(seed), overwrite: result.GetValue(force),
                new SynchronousProgress<int>(n => Console.WriteLine($"Processed {n} pairs.")));
            Console.WriteLine($"Wrote {count} pairs to {d.FullName}.");
            return 0;
        }));
        return command;
    }
}
