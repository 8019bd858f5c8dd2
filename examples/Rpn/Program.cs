using System.Globalization;
using Backprop.Detection;
using Rpn;

// How is a region proposal network trained? Is it k networks, one per anchor type? (No: one network.)
// Trains the RPN of a small Faster R-CNN on synthetic shapes and prints, for sampled images, where the 256 anchors of
// its losses came from (which of the k = 9 anchor types), the positive/negative split (at most 128 positives), and how
// the top-300 proposals' recall of the ground truth grows. Writes rpn-anchors.png and rpn-proposals.png.
//   dotnet run --project examples/Rpn -c Release [-- --steps 600 --data DIR --output .]
int steps = Option("--steps", 600);
int every = Option("--every", 100);
string data = OptionText("--data") ?? Path.Combine(Backprop.Data.DataDirectory.Resolve(), "synthetic-shapes");
string output = OptionText("--output") ?? ".";

var report = RpnExperiment.Run(data, trainImages: 600, testImages: 200, steps, every, batchSize: 4, seed: 1, output, Console.Out);

Console.WriteLine();
Console.WriteLine($"k = {report.AnchorsPerLocation} anchor types (width x height): {string.Join("  ", report.AnchorTypes)}");
Console.WriteLine("The 256 anchors sampled per image, by anchor type (positives in brackets):");
foreach (var s in report.Samples.Where(s => s.Step == report.Samples[^1].Step || s.Step == 1).Take(8))
    Console.WriteLine($"  step {s.Step,4} {s.Image,-8} {s.Positive,3} positive + {s.Negative,3} negative: " +
        string.Join(" ", s.SampledPerType.Zip(s.PositivePerType, (all, pos) => $"{all}({pos})")));
int mostPositives = report.Samples.Max(s => s.Positive);
Console.WriteLine($"At most {mostPositives} positives in any image (the sampler's cap is 128 of 256).");
Console.WriteLine("Every sampled image draws anchors of several types, and all of them train the same head: one network, not k.");
Console.WriteLine();
foreach (var p in report.Recall) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after {p.Step,5} steps: recall@300 = {p.Recall:F3}"));
foreach (var p in report.Pictures) Console.WriteLine($"Wrote {p}");

int Option(string name, int fallback) =>
    OptionText(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? OptionText(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
