using System.Diagnostics;
using Filters;
using Xunit.Abstractions;

namespace Backprop.Tests.Examples;

public class FiltersExampleTests(ITestOutputHelper output)
{
    [Fact]
    public void TheFiltersNetLearnsBarsAndEdgesInSeconds()
    {
        var clock = Stopwatch.StartNew();
        var result = FilterTraining.Train(seed: 3);
        output.WriteLine($"test accuracy {result.TestAccuracy:P1}, final loss {result.FinalLoss:F4}, {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(FilterText.Render(result.Net.Conv1.Weight));
        Assert.True(result.TestAccuracy > 0.95f, $"accuracy {result.TestAccuracy}");
        // Training moved the filters away from their random start.
        Assert.Contains(FilterText.Similarities(result.InitialFilters, result.Net.Conv1.Weight), s => s < 0.9f);
    }

    [Fact]
    public void AnotherSeedLearnsOtherFilters()
    {
        var a = FilterTraining.Train(seed: 1, steps: 50);
        var b = FilterTraining.Train(seed: 2, steps: 50);
        Assert.NotEqual(a.Net.Conv1.Weight.ToArray(), b.Net.Conv1.Weight.ToArray());
    }

    [Fact]
    public void DatasetImagesHaveTheDocumentedShapeAndLabels()
    {
        var (images, labels) = BarsAndEdges.Generate(40, new Generator(5));
        Assert.Equal(new Shape(40, 1, 16, 16), images.Shape);
        Assert.All(labels, l => Assert.InRange(l, 0, 3));
        Assert.Equal(4, labels.Distinct().Count());
    }
}
