using Backprop.Viz;

namespace Backprop.Tests.Viz;

/// <summary>What the training-curves plot shows: a smoothed train loss over a faint raw one, the test loss on top, the accuracy axis up to 1.</summary>
public class TrainingCurvesPlotTests
{
    // 1000 noisy iterations over 4 epochs, a test every 250 iterations.
    private static TrainingCurves Run()
    {
        var curves = new TrainingCurves { Title = "LeNet: SGD, seed 1" };
        var g = new Generator(3);
        for (int i = 0; i < 1000; i++) curves.AddLoss(i, i / 250.0, 2.0 / (1 + i / 50.0) + g.NextDouble());
        for (int i = 250; i <= 1000; i += 250)
        {
            curves.AddMetric("test_accuracy", i, i / 250.0, 0.9 + i / 20000.0);
            curves.AddMetric("test_loss", i, i / 250.0, 0.3 - i / 10000.0);
        }
        return curves;
    }

    private static List<ScottPlot.Plottables.Scatter> Series(ScottPlot.Plot plot) => plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().ToList();

    [Fact]
    public void TrainLossIsSmoothedOverAFaintRawLine()
    {
        var series = Series(Run().Build(CurveAxis.Epoch));
        var raw = series.Single(s => s.LegendText == "train loss (raw)");
        var smooth = series.Single(s => s.LegendText.StartsWith("train loss (mean of", StringComparison.Ordinal));
        Assert.True(raw.Color.Alpha < 128, "the raw line is faint");
        Assert.Equal(255, smooth.Color.Alpha);
        Assert.True(smooth.LineWidth > raw.LineWidth);
    }

    [Fact]
    public void TestLossIsDrawnOverTheTrainLossInItsOwnColour()
    {
        var series = Series(Run().Build(CurveAxis.Epoch));
        var test = series.Single(s => s.LegendText == "test loss");
        var train = series.Single(s => s.LegendText == "train loss (raw)");
        Assert.True(series.IndexOf(test) > series.IndexOf(train));
        Assert.NotEqual(train.Color.WithAlpha(1.0), test.Color);
        Assert.True(test.MarkerSize > 0 && test.LineWidth >= 2);
    }

    [Fact]
    public void AccuracyAxisEndsAtOneAndEpochTicksAreWhole()
    {
        var plot = Run().Build(CurveAxis.Epoch);
        Assert.Equal(1.0, plot.Axes.Right.Max);
        Assert.InRange(plot.Axes.Right.Min, 0.7, 0.9);
        Assert.Equal(0.0, plot.Axes.Left.Min);
        Assert.True(plot.Axes.Bottom.TickGenerator is ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly: true });
        Assert.Equal("LeNet: SGD, seed 1", plot.Axes.Title.Label.Text);
        Assert.Equal("training run", new TrainingCurves().Build(CurveAxis.Iteration).Axes.Title.Label.Text);
    }

    [Fact]
    public void SmoothIsTheCentredMovingAverage()
    {
        var points = new[] { 1.0, 2, 6, 3, double.NaN }.Select((v, i) => new CurvePoint(i, i, v)).ToList();
        var smooth = TrainingCurves.Smooth(points, 3);
        Assert.Equal([1.5, 3, 11 / 3.0, 4.5, 3], smooth.Select(p => p.Value));
        Assert.Equal(21, TrainingCurves.SmoothingWindow(1000));
        Assert.Equal(1, TrainingCurves.SmoothingWindow(10));
    }
}
