using System.Globalization;
using Backprop.Data;
using FiltersAndSeeds;

// Do the filters of a CNN come out the same every time, and is an edge filter guaranteed?
// Trains Caffe's LeNet on MNIST twice, from two seeds, on the same batches in the same order: only the random
// initial weights differ. Then looks at the 20 first-layer (conv1) filters of each run.
//   dotnet run --project examples/FiltersAndSeeds -c Release [-- --iterations 2000 --batch 64 --seeds 1,2 --output conv1-seeds.png]
int iterations = Option("--iterations", 2000);
int batch = Option("--batch", 64);
string picture = OptionText("--output") ?? "conv1-seeds.png";
var seeds = (OptionText("--seeds") ?? "1,2").Split(',').Select(s => ulong.Parse(s, CultureInfo.InvariantCulture)).ToArray();

Console.WriteLine("Loading MNIST (fetched into ~/.backprop/data/mnist when absent)...");
var train = new MnistBatches(Mnist.Load(MnistSplit.Train));
var test = new MnistBatches(Mnist.Load(MnistSplit.Test));
var runs = new LeNetRun[2];
for (int r = 0; r < 2; r++)
{
    ulong seed = seeds[r];
    runs[r] = LeNetTraining.Train(seed, train, iterations, batch, test, new Inline(p =>
    {
        if ((p.Iteration + 1) % 500 == 0) Console.WriteLine($"  seed {seed}: iteration {p.Iteration + 1,5}, loss {p.Loss:F4}");
    }));
    Console.WriteLine($"seed {seed}: {iterations} iterations of batch {batch} in {runs[r].Time.TotalSeconds:F1} s, test accuracy {runs[r].TestAccuracy:P2}");
}
var (a, b) = (runs[0], runs[1]);

Console.WriteLine();
Console.WriteLine("(a) Each conv1 filter's edge orientation (0° —, 45° /, 90° |, 135° \\) and coherence");
Console.WriteLine("    (0 = no direction, 1 = one clean edge; structure tensor of the filter's Sobel gradients):");
Console.WriteLine(FilterReport.Orientations(a, b));

var pairs = FilterMatching.Match(a.Filters, b.Filters);
var randomPairs = FilterMatching.Match(a.InitialFilters, b.InitialFilters);
double matched = pairs.Average(p => p.Similarity), matchedAtStart = randomPairs.Average(p => p.Similarity);
double keptA = FilterMatching.SameIndex(a.InitialFilters, a.Filters).Average(), keptB = FilterMatching.SameIndex(b.InitialFilters, b.Filters).Average();
double coherenceStart = EdgeOrientation.OfEach(a.InitialFilters).Concat(EdgeOrientation.OfEach(b.InitialFilters)).Average(o => o.Coherence);
double coherenceEnd = EdgeOrientation.OfEach(a.Filters).Concat(EdgeOrientation.OfEach(b.Filters)).Average(o => o.Coherence);
Console.WriteLine("(b) Seed-1 filters matched one-to-one to seed-2 filters, maximising the total |cosine similarity| (Hungarian algorithm):");
Console.WriteLine(FilterReport.Matching(a, b, pairs));
Console.WriteLine($"mean matched similarity of the trained filters:         {matched:F2}  (1.00 would mean both runs found the same filters)");
Console.WriteLine($"the same matching between the two random starts:         {matchedAtStart:F2}");
Console.WriteLine($"each trained filter vs its own random start, mean |cos|: {keptA:F2} (seed {a.Seed}), {keptB:F2} (seed {b.Seed})");
FilterPicture.Save(a, b, pairs, picture);
Console.WriteLine();
Console.WriteLine($"(c) wrote {Path.GetFullPath(picture)}: seed {a.Seed}'s conv1 filters (left) and seed {b.Seed}'s (right), each right tile the match");
Console.WriteLine("    of the left tile in the same place (sign flipped where that makes them alike); black = negative, white = positive.");
Console.WriteLine();
Console.WriteLine($"What this run shows: the filters start as random noise, and backprop makes them more oriented (mean coherence {coherenceStart:F2} -> {coherenceEnd:F2}),");
Console.WriteLine($"edge and stroke detectors, while each stays close to its own random start (|cos| {Math.Min(keptA, keptB):F2} or more): which edge a filter");
Console.WriteLine($"ends up detecting is set largely by where it started. The two seeds' best one-to-one match reaches only {matched:F2}, against");
Console.WriteLine($"{matchedAtStart:F2} for two random starts: another run finds other filters, and no particular edge filter is guaranteed.");

int Option(string name, int fallback) =>
    OptionText(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? OptionText(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

/// <summary>Reports on the calling thread, so lines print in order.</summary>
sealed class Inline(Action<(int Iteration, float Loss)> report) : IProgress<(int Iteration, float Loss)>
{
    public void Report((int Iteration, float Loss) value) => report(value);
}
