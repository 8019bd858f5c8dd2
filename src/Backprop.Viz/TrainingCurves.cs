using System.Globalization;
using System.Text;
using Backprop.Caffe;

namespace Backprop.Viz;

/// <summary>One point of a training curve: the iteration, the epoch it falls in (fractional), and the value.</summary>
public readonly record struct CurvePoint(int Iteration, double Epoch, double Value);

/// <summary>Which quantity the x axis of a curve plot shows.</summary>
public enum CurveAxis
{
    Iteration,
    Epoch,
}

/// <summary>
/// The history of a training run: the training loss and any number of named metrics (test accuracy, test
/// loss, validation accuracy), each a series of (iteration, epoch, value). Writes a CSV log (one row per
/// iteration that has a value, columns <c>iteration,epoch,loss,metric…</c>, empty where a series has no
/// value) and a PNG plot (ScottPlot): losses on the left y axis, other metrics (accuracies) on the right,
/// against iteration or epoch.
/// </summary>
public sealed class TrainingCurves
{
    private readonly List<CurvePoint> loss = [];
    private readonly Dictionary<string, List<CurvePoint>> metrics = new(StringComparer.Ordinal);
    private readonly List<string> metricOrder = [];

    /// <summary>The plot's title (the net's name, say).</summary>
    public string Title { get; set; } = "";

    /// <summary>The training loss series.</summary>
    public IReadOnlyList<CurvePoint> Loss => loss;

    /// <summary>The metric series, by name, in the order first added.</summary>
    public IReadOnlyList<KeyValuePair<string, IReadOnlyList<CurvePoint>>> Metrics =>
        metricOrder.Select(n => new KeyValuePair<string, IReadOnlyList<CurvePoint>>(n, metrics[n])).ToList();

    public void AddLoss(int iteration, double epoch, double value) => loss.Add(new(iteration, epoch, value));

    /// <summary>Adds a point to metric <paramref name="name"/> (created on first use). Names containing "loss" are plotted on the loss axis.</summary>
    public void AddMetric(string name, int iteration, double epoch, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == "loss" || name == "iteration" || name == "epoch")
            throw new ArgumentException($"A metric cannot be named '{name}': that is a column of the log already.", nameof(name));
        if (!metrics.TryGetValue(name, out var series))
        {
            metrics[name] = series = [];
            metricOrder.Add(name);
        }
        series.Add(new(iteration, epoch, value));
    }

    /// <summary>
    /// The curves of a Caffe solver's run: <see cref="CaffeSolver.Losses"/> (the losses of the iterations run in
    /// this process, the last one being iteration <c>Iteration − 1</c>) and <see cref="CaffeSolver.TestResults"/>,
    /// whose outputs become metrics <c>test_accuracy</c>, <c>test_loss</c> (<c>test1_accuracy</c> for a second test net).
    /// </summary>
    public static TrainingCurves FromCaffeSolver(CaffeSolver solver)
    {
        ArgumentNullException.ThrowIfNull(solver);
        var curves = new TrainingCurves
        {
            Title = FormattableString.Invariant($"{solver.TrainNet.Name}: {SolverSetup.SolverType(solver.Definition)}, seed {solver.Seed}, {solver.Iteration} iterations ({solver.EpochAt(solver.Iteration):F1} epochs)"),
        };
        int first = solver.Iteration - solver.Losses.Count;
        for (int i = 0; i < solver.Losses.Count; i++)
            curves.AddLoss(first + i, solver.EpochAt(first + i), Widen(solver.Losses[i]));
        foreach (var (iteration, net, outputs) in solver.TestResults)
            foreach (var (name, value) in outputs)
                curves.AddMetric(net == 0 ? $"test_{name}" : $"test{net}_{name}", iteration, solver.EpochAt(iteration), Widen(value));
        return curves;
    }

    /// <summary>The CSV log: header <c>iteration,epoch,loss,&lt;metrics&gt;</c>, rows by increasing iteration, invariant culture.</summary>
    public string ToCsv()
    {
        var rows = new SortedDictionary<int, (double Epoch, double?[] Values)>();
        int columns = 1 + metricOrder.Count;
        void Put(CurvePoint p, int column)
        {
            if (!rows.TryGetValue(p.Iteration, out var row)) rows[p.Iteration] = row = (p.Epoch, new double?[columns]);
            row.Values[column] = p.Value;
        }
        foreach (var p in loss) Put(p, 0);
        for (int m = 0; m < metricOrder.Count; m++)
            foreach (var p in metrics[metricOrder[m]]) Put(p, 1 + m);

        var sb = new StringBuilder();
        sb.Append("iteration,epoch,loss");
        foreach (var name in metricOrder) sb.Append(',').Append(CsvField(name));
        sb.Append('\n');
        foreach (var (iteration, (epoch, values)) in rows)
        {
            sb.Append(iteration.ToString(CultureInfo.InvariantCulture)).Append(',').Append(Number(epoch));
            foreach (var v in values) sb.Append(',').Append(v is double d ? Number(d) : "");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToCsv"/> to <paramref name="path"/> (temporary file, then rename).</summary>
    public void SaveCsv(string path) => PngFile.WriteAtomically(path, Encoding.UTF8.GetBytes(ToCsv()));

    /// <summary>
    /// The plot as PNG bytes: the training loss as a faint raw line under its moving average (<see cref="Smooth"/>),
    /// losses on the left axis from 0, test losses drawn last in their own colour with markers so the train loss
    /// cannot hide them, accuracies on the right axis ending at 1.0, whole-number epoch ticks, and the title.
    /// </summary>
    public byte[] RenderPng(CurveAxis axis = CurveAxis.Iteration, int width = 900, int height = 540)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 100);
        return Build(axis).GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
    }

    // Colours by role, so the same quantity looks the same in every plot the project draws.
    private static readonly ScottPlot.Color TrainColor = ScottPlot.Color.FromHex("#1f77b4"), TestLossColor = ScottPlot.Color.FromHex("#d62728"),
        AccuracyColor = ScottPlot.Color.FromHex("#2ca02c");
    private static readonly ScottPlot.Color[] OtherColors = [ScottPlot.Color.FromHex("#ff7f0e"), ScottPlot.Color.FromHex("#9467bd"), ScottPlot.Color.FromHex("#8c564b")];

    /// <summary>The ScottPlot plot <see cref="RenderPng"/> draws (internal: tests read its series and axes).</summary>
    internal ScottPlot.Plot Build(CurveAxis axis)
    {
        var plot = new ScottPlot.Plot();
        plot.Title(Title.Length > 0 ? Title : "training run");
        plot.XLabel(axis == CurveAxis.Epoch ? "epoch" : "iteration");
        plot.YLabel("loss");
        double maxLoss = 0;
        if (loss.Count > 0)
        {
            var raw = AddSeries(plot, loss.Count > 1 ? "train loss (raw)" : "train loss", loss, axis, onRight: false, TrainColor.WithAlpha(0.25));
            raw.LineWidth = 1;
            raw.MarkerSize = 0;
            if (loss.Count > 1)
                AddSeries(plot, $"train loss (mean of {SmoothingWindow(loss.Count)})", Smooth(loss, SmoothingWindow(loss.Count)), axis, onRight: false, TrainColor).LineWidth = 2;
            maxLoss = loss.Max(p => double.IsFinite(p.Value) ? p.Value : 0);
        }
        var rightNames = new List<string>();
        int other = 0;
        // Metrics after the train loss, so they are drawn over it.
        foreach (var name in metricOrder)
        {
            bool isLoss = name.Contains("loss", StringComparison.OrdinalIgnoreCase);
            bool isAccuracy = name.Contains("acc", StringComparison.OrdinalIgnoreCase);
            var color = isLoss ? TestLossColor : isAccuracy ? AccuracyColor : OtherColors[other++ % OtherColors.Length];
            var series = AddSeries(plot, name.Replace('_', ' '), metrics[name], axis, onRight: !isLoss, color);
            series.LineWidth = 2.5f;
            series.MarkerSize = 7;
            if (isLoss) maxLoss = Math.Max(maxLoss, metrics[name].Max(p => double.IsFinite(p.Value) ? p.Value : 0));
            else rightNames.Add(name);
        }
        if (maxLoss > 0) plot.Axes.SetLimitsY(0, maxLoss * 1.05, plot.Axes.Left);
        if (rightNames.Count > 0)
        {
            bool accuracies = rightNames.All(n => n.Contains("acc", StringComparison.OrdinalIgnoreCase));
            plot.Axes.Right.Label.Text = accuracies ? "accuracy" : "metric";
            if (accuracies)
            {
                // Up to 1.0, the best an accuracy can be; down to a tenth below the lowest value seen.
                double lowest = rightNames.SelectMany(n => metrics[n]).Min(p => double.IsFinite(p.Value) ? p.Value : 1);
                plot.Axes.SetLimitsY(Math.Max(0, Math.Floor(lowest * 10 - 1) / 10), 1.0, plot.Axes.Right);
            }
        }
        double lastEpoch = loss.Concat(metrics.Values.SelectMany(m => m)).Select(p => p.Epoch).DefaultIfEmpty(0).Max();
        if (axis == CurveAxis.Epoch && lastEpoch >= 2)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);   // clear of the accuracy line (top) and the losses (bottom)
        return plot;
    }

    /// <summary>The moving-average window for <paramref name="count"/> points: about a fiftieth of the run, at least 1, odd.</summary>
    public static int SmoothingWindow(int count) => Math.Max(1, count / 50) | 1;

    /// <summary>The centred moving average over <paramref name="window"/> points (fewer at the ends); non-finite values are skipped.</summary>
    public static List<CurvePoint> Smooth(IReadOnlyList<CurvePoint> points, int window)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        var result = new List<CurvePoint>(points.Count);
        int half = window / 2;
        for (int i = 0; i < points.Count; i++)
        {
            double sum = 0;
            int n = 0;
            for (int j = Math.Max(0, i - half); j <= Math.Min(points.Count - 1, i + half); j++)
                if (double.IsFinite(points[j].Value)) { sum += points[j].Value; n++; }
            result.Add(points[i] with { Value = n > 0 ? sum / n : double.NaN });
        }
        return result;
    }

    /// <summary>Writes the plot to <paramref name="path"/> as PNG (temporary file, then rename).</summary>
    public void SavePng(string path, CurveAxis axis = CurveAxis.Iteration, int width = 900, int height = 540) =>
        PngFile.WriteAtomically(path, RenderPng(axis, width, height));

    private static ScottPlot.Plottables.Scatter AddSeries(ScottPlot.Plot plot, string label, List<CurvePoint> points, CurveAxis axis, bool onRight, ScottPlot.Color color)
    {
        double[] xs = points.Select(p => axis == CurveAxis.Epoch ? p.Epoch : p.Iteration).ToArray();
        double[] ys = points.Select(p => p.Value).ToArray();
        var scatter = plot.Add.Scatter(xs, ys);
        scatter.LegendText = label;
        scatter.Color = color;
        scatter.LineWidth = 1.5f;
        scatter.MarkerSize = points.Count <= 50 ? 5 : 0;
        if (onRight) scatter.Axes.YAxis = plot.Axes.Right;
        return scatter;
    }

    private static string Number(double v) => v.ToString(CultureInfo.InvariantCulture);   // shortest round-trip

    // A float as the double of its shortest decimal form (0.1f → 0.1, not 0.100000001490116), so the log reads as the solver printed.
    private static double Widen(float v) => double.Parse(v.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string CsvField(string s) =>
        s.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
