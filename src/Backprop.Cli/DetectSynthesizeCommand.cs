using System.CommandLine;
using Backprop.Detection;

namespace Backprop.Cli;

/// <summary><c>backprop detect synthesize --output DIR</c>: writes the seeded synthetic shapes set in VOC layout.</summary>
public static class DetectSynthesizeCommand
{
    internal static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output") { Description = "The folder to write (VOC layout: Annotations/, JPEGImages/, ImageSets/Main/, classes.txt).", Required = true };
        var train = new Option<int>("--train") { Description = "Images in the trainval split.", DefaultValueFactory = _ => 600 };
        var test = new Option<int>("--test") { Description = "Images in the test split.", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (the same seed writes the same files).", DefaultValueFactory = _ => 1 };
        var size = new Option<int>("--size") { Description = "Image width and height in pixels.", DefaultValueFactory = _ => 224 };
        var command = new Command("synthesize", "Write a synthetic detection set (shapes on cluttered backgrounds) in PASCAL VOC layout.") { output, train, test, seed, size };
        command.SetAction(r => CommandErrors.Run(() =>
        {
            string root = r.GetValue(output)!.FullName;
            int trainCount = r.GetValue(train), testCount = r.GetValue(test);
            if (trainCount < 1 || testCount < 0) throw new ArgumentException("--train must be positive and --test not negative.");
            SyntheticShapes.WriteVoc(root, trainCount, testCount, r.GetValue(seed), r.GetValue(size));
            Console.WriteLine($"Wrote {trainCount} trainval and {testCount} test images to {root}.");
            return 0;
        }));
        return command;
    }
}
