using System.CommandLine;
using System.CommandLine.Help;

namespace Backprop.Cli;

/// <summary>The root of the <c>backprop</c> command line: every subcommand, with a description that lists them.</summary>
internal static class BackpropCommand
{
    /// <summary>The name the tool is installed under (the assembly is Backprop.Cli.dll).</summary>
    public const string Name = "backprop";

    /// <summary>
    /// The root command. A plain <see cref="Command"/> named <c>backprop</c> rather than a <see cref="RootCommand"/>,
    /// whose name is the running executable's (Backprop.Cli), with the help and version options a root command has.
    /// </summary>
    public static Command Create()
    {
        var root = new Command(Name,
            "Backprop: Caffe's tools on the CPU, in .NET.\n" +
            "  Train and measure: train, test, time.\n" +
            "  Prepare data: convert-mnist, convert-mnist-siamese, convert-imageset, compute-image-mean, synthesize-cifar.\n" +
            "  Look inside a net: filters, features, graph, summary.\n" +
            "  ONNX: export (a Caffe net or a Keras model to .onnx), import (.onnx to weights).\n" +
            "  Detect objects: detect, anchors.")
        {
            TrainCommand.Create(),
            TestCommand.Create(),
            TimeCommand.Create(),
            ConvertMnistCommand.Create(),
            ConvertMnistSiameseCommand.Create(),
            ConvertImagesetCommand.Create(),
            ComputeImageMeanCommand.Create(),
            SynthesizeCifarCommand.Create(),
            FiltersCommand.Create(),
            FeaturesCommand.Create(),
            GraphCommand.Create(),
            SummaryCommand.Create(),
            ImportCommand.Create(),
            DetectCommand.Create(),
            AnchorsCommand.Create(),
            ExportCommand.Create(),
        };
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        return root;
    }
}
