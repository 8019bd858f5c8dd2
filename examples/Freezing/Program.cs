using System.Globalization;
using Freezing;

// Does freezing layers make training cheaper, and which layers should you freeze to save the most?
// Times forward+backward of a small CNN (4 conv layers + fc, 32x32 RGB, batch 32) three ways and writes each
// backward graph as Graphviz DOT (render with: dot -Tsvg freezing-all.dot -o all.svg) into --output, by default a
// backprop-freezing folder under the temp folder, so nothing lands in the current folder.
//   dotnet run --project examples/Freezing -c Release [-- --repetitions 20 --batch 32 --output graphs]
int repetitions = Option("--repetitions", 20);
int batch = Option("--batch", 32);
string output = OutputFolder.Resolve(OptionText("--output"));

Console.WriteLine($"SmallCnn, batch {batch} of 32x32 RGB, median of {repetitions} repetitions:");
Console.WriteLine();
Console.WriteLine("setting          backward nodes   forward ms   backward ms   total ms   graph");
var results = new List<FreezingResult>();
foreach (var setting in Enum.GetValues<Trainable>())
{
    var r = FreezingBenchmark.Measure(setting, batch, repetitions);
    results.Add(r);
    string file = Path.Combine(output, $"freezing-{Name(setting)}.dot");
    File.WriteAllText(file, r.Dot);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{Label(setting),-16} {r.BackwardNodes,14} {r.ForwardMs,12:F1} {r.BackwardMs,13:F1} {r.TotalMs,10:F1}   {file}"));
}
Console.WriteLine($"(the .dot files are in {output})");
Console.WriteLine();
foreach (var r in results)
    Console.WriteLine($"{Label(r.Setting),-16} gradients for: {string.Join(", ", r.WithGradient)}");
Console.WriteLine();
Console.WriteLine("Freezing the early layers cuts the backward pass short: nothing below conv3 needs a gradient, so those nodes are");
Console.WriteLine("never recorded or run (compare the .dot files). Training only the early layers cannot do that: the gradient must");
Console.WriteLine("still flow back through every later layer to reach conv1; only the later layers' weight gradients are skipped.");

static string Name(Trainable t) => t switch { Trainable.All => "all", Trainable.EarlyFrozen => "early-frozen", _ => "only-early" };
static string Label(Trainable t) => t switch { Trainable.All => "all trainable", Trainable.EarlyFrozen => "early frozen", _ => "only early" };

int Option(string name, int fallback) =>
    OptionText(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? OptionText(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
