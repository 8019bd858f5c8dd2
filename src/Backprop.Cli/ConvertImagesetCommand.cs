using System.CommandLine;
using Backprop.Caffe.Lmdb;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop convert-imageset ROOTFOLDER LISTFILE DB_NAME</c>, as Caffe's convert_imageset: the images a list file
/// names (<c>path label</c> lines, paths relative to ROOTFOLDER) become an LMDB (or, with <c>--backend leveldb</c>, a
/// LevelDB) database of Datum records. Flags take
/// Caffe's spellings too (<c>--resize_height</c>, <c>-gray</c>, ...).
/// </summary>
internal static class ConvertImagesetCommand
{
    public static Command Create()
    {
        var root = new Argument<DirectoryInfo>("rootfolder") { Description = "The folder the list's paths are relative to." };
        var list = new Argument<FileInfo>("listfile") { Description = "One 'path label' per line." };
        var database = new Argument<DirectoryInfo>("db_name") { Description = "The database to write." };
        var resizeHeight = CaffeArguments.Flag<int>("--resize-height", "Height images are resized to (with --resize-width; 0: keep).");
        var resizeWidth = CaffeArguments.Flag<int>("--resize-width", "Width images are resized to (with --resize-height; 0: keep).");
        var gray = CaffeArguments.Flag<bool>("--gray", "Store images as one gray channel.");
        var shuffle = CaffeArguments.Flag<bool>("--shuffle", "Write the images in a random order (see --seed).");
        var seed = CaffeArguments.Flag<ulong>("--seed", "The seed of --shuffle (the same seed gives the same order).");
        var encoded = CaffeArguments.Flag<bool>("--encoded", "Store the encoded images (the Data layer decodes them).");
        var encodeType = CaffeArguments.Flag<string>("--encode-type", "png or jpg: what to encode images as (implies --encoded; default: each file's own type).");
        encodeType.DefaultValueFactory = _ => "";
        var checkSize = CaffeArguments.Flag<bool>("--check-size", "Refuse images whose stored size differs from the first one's.");
        var force = new Option<bool>("--force") { Description = "Rewrite a database that already exists." };
        var backend = ConvertMnistCommand.Backend();
        var command = new Command("convert-imageset", "Convert a list of images with labels to a Caffe LMDB or LevelDB database.")
        {
            root, list, database, resizeHeight, resizeWidth, gray, shuffle, seed, encoded, encodeType, checkSize, force, backend,
        };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var format = ConvertMnistCommand.ParseBackend(result.GetValue(backend)!);
            var options = new ImagesetOptions
            {
                ResizeHeight = result.GetValue(resizeHeight),
                ResizeWidth = result.GetValue(resizeWidth),
                Gray = result.GetValue(gray),
                Shuffle = result.GetValue(shuffle),
                Seed = result.GetValue(seed),
                Encoded = result.GetValue(encoded),
                EncodeType = result.GetValue(encodeType)!,
                CheckSize = result.GetValue(checkSize),
                Overwrite = result.GetValue(force),
                Backend = format,
            };
            var db = result.GetValue(database)!;
            var written = ImagesetToLmdb.Convert(result.GetValue(root)!.FullName, result.GetValue(list)!.FullName, db.FullName, options, Console.WriteLine);
            Console.WriteLine($"Wrote {written.Written} records to {db.FullName}" +
                              (written.Skipped.Count > 0 ? $"; {written.Skipped.Count} images could not be read and were skipped." : "."));
            return 0;
        }));
        return command;
    }
}
