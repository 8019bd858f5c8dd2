using System.CommandLine;
using Backprop.Cli;
using Backprop.Kernels;

// The backprop command: Caffe's caffe tool (train, test, time) plus its data tools (convert-mnist, convert-imageset, compute-image-mean).
var root = new RootCommand("Backprop: train, test and time Caffe nets on the CPU, in .NET.")
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
    DetectCommand.Create(),
    AnchorsCommand.Create(),
};
// The kernels read BACKPROP_SIMD once, in a static initializer: a bad value is said here in one line, not as a
// TypeInitializationException from whichever kernel runs first.
try
{
    _ = SimdWidth.Max;
}
catch (TypeInitializationException e) when (e.InnerException is InvalidOperationException setting)
{
    Console.Error.WriteLine($"error: {setting.Message}");
    return 1;
}
return root.Parse(args).Invoke();
