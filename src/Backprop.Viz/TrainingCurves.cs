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
        var curves = new TrainingCurves { Title = solver.TrainNet.Name };
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

    /// <summary>The plot as PNG bytes.</summary>
    public byte[] RenderPng(CurveAxis axis = CurveAxis.Iteration, int width = 900, int height = 540)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 100);
        var plot = new ScottPlot.Plot();
        if (Title.Length > 0) plot.Title(Title);
        plot.XLabel(axis == CurveAxis.Epoch ? "epoch" : "iteration");
        plot.YLabel("loss");
        var rightNames = new List<string>();
        AddSeries(plot, "train loss", loss, axis, onRight: false);
        foreach (var name in metricOrder)
        {
            bool isLoss = name.Contains("loss", StringComparison.OrdinalIgnoreCase);
            AddSeries(plot, name.Replace('_', ' '), metrics[name], axis, onRight: !isLoss);
            if (!isLoss) rightNames.Add(name);
        }
        if (rightNames.Count > 0)
            plot.Axes.Right.Label.Text = rightNames.All(n => n.Contains("acc", StringComparison.OrdinalIgnoreCase)) ? "accuracy" : "metric";
        plot.ShowLegend(ScottPlot.Alignment.UpperCenter);
        return plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
    }

    /// <summary>Writes the plot to <paramref name="path"/> as PNG (temporary file, then rename).</summary>
    public void SavePng(string path, CurveAxis axis = CurveAxis.Iteration, int width = 900, int height = 540) =>
        PngFile.WriteAtomically(path, RenderPng(axis, width, height));

    private static void AddSeries(ScottPlot.Plot plot, string label, List<CurvePoint> points, CurveAxis axis, bool onRight)
    {
        if (points.Count == 0) return;
        double[] xs = points.Select(p => axis == CurveAxis.Epoch ? p.Epoch : p.Iteration).ToArray();
        double[] ys = points.Select(p => p.Value).ToArray();
        var scatter = plot.Add.Scatter(xs, ys);
        scatter.LegendText = label;
        scatter.LineWidth = 1.5f;
        scatter.MarkerSize = points.Count <= 50 ? 5 : 0;
        if (onRight) scatter.Axes.YAxis = plot.Axes.Right;
    }

    private static string Number(double v) => v.ToString(CultureInfo.InvariantCulture);   // shortest round-trip

    // A float as the double of its shortest decimal form (0.1f → 0.1, not 0.100000001490116), so the log reads as the solver printed.
    private static double Widen(float v) => double.Parse(v.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string CsvField(string s) =>
        s.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
