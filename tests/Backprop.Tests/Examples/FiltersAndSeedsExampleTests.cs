using Backprop.Data;
using FiltersAndSeeds;
using Xunit.Abstractions;

namespace Backprop.Tests.Examples;

public class FiltersAndSeedsExampleTests(ITestOutputHelper output)
{
    [Fact]
    public void HungarianFindsTheBestAssignmentOfAHandMadeMatrixWhereGreedyFails()
    {
        // Greedy takes the 9 at (0, 0), then the 7 at (2, 1), and is left with 0 (total 16); the best is 8 + 8 + 1 = 17.
        double[,] score =
        {
            { 9, 8, 0 },
            { 8, 1, 0 },
            { 0, 7, 1 },
        };
        Assert.Equal([1, 0, 2], Hungarian.Maximize(score));

        double[,] cost =
        {
            { 4, 1, 3 },
            { 2, 0, 5 },
            { 3, 2, 2 },
        };
        Assert.Equal([1, 0, 2], Hungarian.Minimize(cost));   // 1 + 2 + 2 = 5; the other 5 permutations cost 6 to 11
    }

    [Fact]
    public void HungarianMatchesBruteForceOnRandomMatrices()
    {
        var g = new Generator(7);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = 1 + trial % 7;
            var cost = new double[n, n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) cost[i, j] = trial % 2 == 0 ? g.NextInt(5) : g.NextDouble() * 10 - 5;   // ties and negatives
            var assignment = Hungarian.Minimize(cost);
            Assert.Equal(Enumerable.Range(0, n), assignment.Order());
            double found = Enumerable.Range(0, n).Sum(i => cost[i, assignment[i]]);
            double best = Permutations(n).Min(p => Enumerable.Range(0, n).Sum(i => cost[i, p[i]]));
            Assert.Equal(best, found, 9);
        }
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        if (n == 0) { yield return []; yield break; }
        foreach (var rest in Permutations(n - 1))
            for (int at = 0; at <= rest.Length; at++)
                yield return [.. rest[..at], n - 1, .. rest[at..]];
    }

    [Theory]
    [InlineData("vertical", 90)]
    [InlineData("horizontal", 0)]
    [InlineData("rising", 45)]
    [InlineData("falling", 135)]
    public void EdgeOrientationOfAStepEdge(string kind, double expected)
    {
        var w = new float[25];
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 5; c++)
            {
                int y = 4 - r;   // upwards
                bool bright = kind switch { "vertical" => c > 2, "horizontal" => y > 2, "rising" => y < c, _ => y > 4 - c };
                w[r * 5 + c] = bright ? 1 : -1;
            }
        var o = EdgeOrientation.Of(w, 5);
        output.WriteLine($"{kind}: {o.Degrees:F1}° {o.Symbol} coherence {o.Coherence:F3}");
        Assert.InRange(Math.Min(Math.Abs(o.Degrees - expected), 180 - Math.Abs(o.Degrees - expected)), 0, 1e-9);
        Assert.InRange(o.Coherence, 0.999, 1.0);
        // Flipping the sign (light-to-dark instead of dark-to-light) is the same orientation.
        Assert.Equal(o, EdgeOrientation.Of(w.Select(v => -v).ToArray(), 5));
    }

    [Fact]
    public void ABlobHasNoOrientation()
    {
        var w = new float[25];
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 5; c++) w[r * 5 + c] = (float)Math.Exp(-((r - 2) * (r - 2) + (c - 2) * (c - 2)) / 2.0);
        Assert.InRange(EdgeOrientation.Of(w, 5).Coherence, 0, 1e-6);
    }

    [Fact]
    public void AlignPutsEachMatchedFilterUnderItsPartnerWithTheSameSign()
    {
        // b holds a's three filters in another order, one negated: the matching finds them and Align undoes both.
        var a = Tensor.FromArray([1, 0, 0, 0, 2, 1, 0, 1, -3], 3, 1, 1, 3);
        var b = Tensor.FromArray([0, 1, -3, -1, 0, 0, 0, 2, 1], 3, 1, 1, 3);
        var pairs = FilterMatching.Match(a, b);
        Assert.Equal([1, 2, 0], pairs.Select(p => p.B));
        Assert.All(pairs, p => Assert.Equal(1.0, p.Similarity, 9));
        Assert.Equal(a.ToArray(), FilterMatching.Align(a, b, pairs).ToArray());
    }

    [Fact]
    public void LeNetFiltersChangeWithTrainingAndDifferBetweenSeeds()
    {
        var train = new MnistBatches(Mnist.Load(MnistSplit.Train, log: new Progress<string>(output.WriteLine)), count: 5000);
        var a = LeNetTraining.Train(1, train, iterations: 100, batchSize: 32);
        var b = LeNetTraining.Train(2, train, iterations: 100, batchSize: 32);
        output.WriteLine($"final loss {a.FinalLoss:F3} and {b.FinalLoss:F3}, {a.Time.TotalSeconds:F1} s and {b.Time.TotalSeconds:F1} s");
        Assert.InRange(a.FinalLoss, 0, 1.5);   // they learned (the loss starts at ln 10 ≈ 2.3)
        Assert.InRange(b.FinalLoss, 0, 1.5);

        foreach (var run in new[] { a, b })
        {
            var before = run.InitialFilters.ToArray();
            var after = run.Filters.ToArray();
            float moved = before.Zip(after, (x, y) => Math.Abs(x - y)).Max();
            output.WriteLine($"seed {run.Seed}: largest weight change {moved:G3}, mean |cos| to start {FilterMatching.SameIndex(run.InitialFilters, run.Filters).Average():F4}");
            Assert.True(moved > 1e-3f, $"seed {run.Seed}: conv1 barely moved ({moved})");
        }

        var pairs = FilterMatching.Match(a.Filters, b.Filters);
        double matched = pairs.Average(p => p.Similarity);
        double sameIndex = FilterMatching.SameIndex(a.Filters, b.Filters).Average();
        output.WriteLine($"mean matched |cos| between seeds {matched:F3} (same-index pairing {sameIndex:F3})");
        Assert.Equal(Enumerable.Range(0, 20), pairs.Select(p => p.B).Order());
        Assert.True(matched >= sameIndex);
        Assert.InRange(matched, 0, 0.8);   // well below 1: the two seeds found different filters

        // The picture: every pair headed by both seeds, captioned with its similarity, the most alike pair first.
        using var picture = FilterPicture.Render(a, b, pairs);
        var texts = picture.Labels.Select(l => l.Text).ToList();
        Assert.Equal(20, texts.Count(t => t == "seed 1"));
        Assert.Equal(20, texts.Count(t => t == "seed 2"));
        var best = pairs.MaxBy(p => p.Similarity);
        Assert.Equal($"#{best.A} ↔ #{best.B}  |cos| {best.Similarity:F2}", texts[3]);
        Assert.StartsWith("conv1 filters of two LeNet runs", texts[0]);
        if (Environment.GetEnvironmentVariable("BACKPROP_PICTURES") is { } folder) picture.Save(Path.Combine(folder, "conv1-seeds.png"));
    }
}
