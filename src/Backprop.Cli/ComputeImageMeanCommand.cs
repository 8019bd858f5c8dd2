using System.CommandLine;
using System.Globalization;
using Backprop.Caffe;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop compute-image-mean INPUT_DB [OUTPUT_FILE] [--backend lmdb|leveldb]</c>, as Caffe's compute_image_mean: the mean
/// image of a database, written as a .binaryproto BlobProto (what transform_param's mean_file reads), and the mean of
/// each channel (what mean_value takes).
/// </summary>
internal static class ComputeImageMeanCommand
{
    public static Command Create()
    {
        var input = new Argument<DirectoryInfo>("input_db") { Description = "The LMDB (or, with --backend leveldb, LevelDB) database of Datum records." };
        var output = new Argument<FileInfo?>("output_file") { Description = "Where to write the mean image (.binaryproto); without it, only the channel means are printed.", Arity = ArgumentArity.ZeroOrOne };
        var backend = ConvertMnistCommand.Backend();
        var command = new Command("compute-image-mean", "Compute the mean image of a Caffe database, as a .binaryproto for mean_file.") { input, output, backend };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var format = ConvertMnistCommand.ParseBackend(result.GetValue(backend)!);
            return Compute(result.GetValue(input)!, result.GetValue(output), format);
        }));
        return command;
    }

    private static int Compute(DirectoryInfo input, FileInfo? output, DataParameter.Types.DB format)
    {
        var progress = new SynchronousProgress<int>(n => Console.WriteLine($"Processed {n} files."));
        var mean = format == DataParameter.Types.DB.Leveldb
            ? ImageMeanComputation.FromLevelDb(input.FullName, progress)
            : ImageMeanComputation.FromLmdb(input.FullName, progress);
        if (output is not null)
        {
            Console.WriteLine($"Write to {output.FullName}");
            BlobProtos.WriteFile(output.FullName, mean.ToBlobProto());
        }
        var channelMeans = ImageMeanComputation.ChannelMeans(mean);
        Console.WriteLine($"Number of channels: {mean.Channels}");
        for (int c = 0; c < channelMeans.Length; c++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean_value channel [{c}]: {channelMeans[c]:G6}"));
        return 0;
    }
}
