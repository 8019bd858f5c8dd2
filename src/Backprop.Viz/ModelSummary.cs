using System.Globalization;
using System.Text;
using Backprop.Caffe;
using Backprop.Nn;

namespace Backprop.Viz;

/// <summary>One row of a <see cref="ModelSummary"/>: a layer, its output shapes, its parameter count and its inputs.</summary>
public sealed record SummaryRow(string Name, string Type, IReadOnlyList<Shape> OutputShapes, long Parameters, IReadOnlyList<string> Bottoms);

/// <summary>
/// Keras's <c>model.summary()</c> for a built Caffe net: one row per layer with its name and type, its output
/// shape(s) (with the batch dimension as the net was built), its parameter count, and the blobs it reads; then
/// total, trainable and non-trainable parameter counts. A parameter blob shared between layers is counted once,
/// at its first layer; a blob is trainable when it requires a gradient (lr_mult 0 freezes one, and BatchNorm's
/// statistics never train).
/// </summary>
public sealed class ModelSummary
{
    private ModelSummary(string name, IReadOnlyList<SummaryRow> rows, long total, long trainable)
    {
        Name = name;
        Rows = rows;
        TotalParameters = total;
        TrainableParameters = trainable;
    }

    public string Name { get; }
    public IReadOnlyList<SummaryRow> Rows { get; }
    public long TotalParameters { get; }
    public long TrainableParameters { get; }
    public long NonTrainableParameters => TotalParameters - TrainableParameters;

    public static ModelSummary Of(CaffeNet net)
    {
        ArgumentNullException.ThrowIfNull(net);
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var rows = new List<SummaryRow>();
        long total = 0, trainable = 0;
        for (int i = 0; i < net.Layers.Count; i++)
        {
            var layer = net.Layers[i];
            var (bottoms, tops) = net.Connections(i);
            long count = 0;
            foreach (var blob in layer.Blobs)
            {
                if (!seen.Add(blob)) continue;
                count += blob.Length;
                if (blob.RequiresGrad) trainable += blob.Length;
            }
            total += count;
            rows.Add(new SummaryRow(layer.Name, layer.Type, tops.Select(t => net.BlobShapes[t]).ToList(), count, bottoms.ToList()));
        }
        return new ModelSummary(net.Name, rows, total, trainable);
    }

    /// <summary>The table as Keras prints it.</summary>
    public override string ToString()
    {
        var header = new[] { "Layer (type)", "Output Shape", "Param #", "Connected to" };
        var cells = Rows.Select(r => new[]
        {
            $"{r.Name} ({r.Type})",
            string.Join(", ", r.OutputShapes.Select(s => s.ToString())),
            Count(r.Parameters),
            string.Join(", ", r.Bottoms),
        }).ToList();
        var widths = new int[header.Length];
        for (int c = 0; c < header.Length; c++)
            widths[c] = Math.Max(header[c].Length, cells.Count == 0 ? 0 : cells.Max(r => r[c].Length)) + 3;
        int width = widths.Sum();
        string Line(string[] row)
        {
            var sb = new StringBuilder(" ");
            for (int c = 0; c < row.Length; c++) sb.Append(row[c].PadRight(widths[c]));
            return sb.ToString().TrimEnd();
        }
        var text = new StringBuilder();
        text.Append("Model: \"").Append(Name).Append("\"\n");
        text.Append(new string('_', width)).Append('\n');
        text.Append(Line(header)).Append('\n');
        text.Append(new string('=', width)).Append('\n');
        foreach (var row in cells) text.Append(Line(row)).Append('\n');
        text.Append(new string('=', width)).Append('\n');
        text.Append("Total params: ").Append(Count(TotalParameters)).Append('\n');
        text.Append("Trainable params: ").Append(Count(TrainableParameters)).Append('\n');
        text.Append("Non-trainable params: ").Append(Count(NonTrainableParameters)).Append('\n');
        text.Append(new string('_', width)).Append('\n');
        return text.ToString();
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
