using System.Globalization;
using System.Text;

namespace Backprop.Keras;

public sealed partial class Model
{
    /// <summary>
    /// Keras's functional summary (TensorFlow 2 layout). A chain of single-input layers prints as a Sequential does
    /// (65 columns: layer, output shape, param #), with the input layer first, e.g. <c>input_1 (InputLayer)
    /// [(None, 64, 64, 3)] 0</c>. A model with branches or joins adds Keras's "Connected to" column (98 columns):
    /// the inbound layers as <c>['conv2d[0][0]', 'conv2d_1[0][0]']</c>, wrapped after each entry as Keras wraps it.
    /// Lines carry no trailing spaces. Printed as Keras's <c>summary()</c> prints (to <paramref name="writer"/>, else the
    /// console) unless <paramref name="print"/> is false; returned either way.
    /// </summary>
    public string Summary(bool print = true, TextWriter? writer = null)
    {
        string table = SummaryTable();
        if (print) (writer ?? Console.Out).Write(table);
        return table;
    }

    private string SummaryTable()
    {
        var nodes = graph.Layers.Zip(Nodes()).ToList();
        bool sequentialLike = nodes.All(n => n.Second.Inbound.Count <= 1);
        int width = sequentialLike ? 65 : 98;
        int[] positions = sequentialLike ? [29, 55, 65] : [32, 53, 65, 98];   // Keras: .45/.85/1 of 65, .33/.55/.67/1 of 98
        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(Name).Append("\"\n");
        sb.Append('_', width).Append('\n');
        string[] header = sequentialLike ? ["Layer (type)", "Output Shape", "Param #"] : ["Layer (type)", "Output Shape", "Param #", "Connected to"];
        SummaryRow(sb, positions, header);
        sb.Append('=', width).Append('\n');
        foreach (var (layer, node) in nodes)
        {
            string shape = layer is InputLayer ? $"[{node.Shape.WithBatch()}]" : node.Shape.WithBatch();
            var fields = new List<string> { $"{layer.Name} ({layer.ClassName})", shape, layer.ParamCount.ToString(CultureInfo.InvariantCulture) };
            if (!sequentialLike) fields.Add("[" + string.Join(", ", node.Inbound.Select(t => $"'{t.Layer.Name}[0][0]'")) + "]");
            SummaryRow(sb, positions, [.. fields]);
            sb.Append('\n');
        }
        sb.Append('=', width).Append('\n');
        sb.Append("Total params: ").Append(ParamCount.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Trainable params: ").Append(TrainableParamCount.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Non-trainable params: ").Append(NonTrainableParamCount.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append('_', width).Append('\n');
        return sb.ToString();
    }

    /// <summary>The input, then the layers' outputs in call order (one per layer in <see cref="Layers"/>).</summary>
    private IEnumerable<KerasTensor> Nodes() => Upstream(Inputs.Graph, Outputs).Prepend(Inputs);

    /// <summary>
    /// One row laid out as <see cref="Sequential.Summary"/> lays its rows out (text too long for its column wraps at a
    /// space onto the next line), so a chain prints exactly as the same Sequential; a "Connected to" list wraps after
    /// each entry, its next entry one space in, as Keras prints it.
    /// </summary>
    private static void SummaryRow(StringBuilder sb, int[] positions, string[] fields)
    {
        var chunks = new List<string>[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            int width = positions[i] - (i == 0 ? 0 : positions[i - 1]) - (i == 0 ? 2 : 1);
            chunks[i] = i == 3 ? WrapList(fields[i], width) : Wrap(fields[i], width);
        }
        int lines = chunks.Max(c => c.Count);
        for (int line = 0; line < lines; line++)
        {
            var text = new StringBuilder();
            for (int i = 0; i < fields.Length; i++)
            {
                int start = i == 0 ? 0 : positions[i - 1];
                text.Append(' ', Math.Max(start - text.Length, 0));
                if (i == 0) text.Append(' ');
                if (line < chunks[i].Count) text.Append(chunks[i][line]);
            }
            sb.Append(text.ToString().TrimEnd()).Append('\n');
        }
    }

    private static List<string> Wrap(string text, int width)
    {
        var result = new List<string>();
        while (text.Length > width)
        {
            int cut = text.LastIndexOf(' ', width);
            if (cut <= 0) cut = width;
            result.Add(text[..cut].TrimEnd());
            text = text[cut..].TrimStart();
        }
        result.Add(text);
        return result;
    }

    /// <summary>A Python list's text, one entry a line (Keras breaks after "',"), entries longer than the column cut.</summary>
    private static List<string> WrapList(string text, int width)
    {
        var result = new List<string>();
        while (text.Length > 0)
        {
            int cut = Math.Min(width, text.Length);
            int entryEnd = text.IndexOf("',", StringComparison.Ordinal);
            if (entryEnd >= 0 && entryEnd + 2 <= cut) cut = entryEnd + 2;
            result.Add(text[..cut]);
            text = text[cut..];
        }
        return result;
    }
}
