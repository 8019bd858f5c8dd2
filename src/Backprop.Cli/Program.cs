using System.CommandLine;
using Backprop.Cli;

// The backprop command: Caffe's caffe tool (train, test, time) plus dataset conversion.
var root = new RootCommand("Backprop: train, test and time Caffe nets on the CPU, in .NET.")
{
    TrainCommand.Create(),
    TestCommand.Create(),
    TimeCommand.Create(),
    ConvertMnistCommand.Create(),
    SynthesizeCifarCommand.Create(),
    FiltersCommand.Create(),
    FeaturesCommand.Create(),
    GraphCommand.Create(),
    SummaryCommand.Create(),
    DetectCommand.Create(),
    AnchorsCommand.Create(),
};
return root.Parse(args).Invoke();
