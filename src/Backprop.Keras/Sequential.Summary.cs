using System.Globalization;
using System.Text;

namespace Backprop.Keras;

public sealed partial class Sequential
{
    private const int SummaryWidth = 65;
    private static readonly int[] SummaryColumns = [29, 55, 65];   // Keras's Sequential positions .45, .85, 1.0 of 65

    /// <summary>Total weights, trainable or not (Keras's <c>count_params()</c>).</summary>
    public long ParamCount => layers.Sum(l => l.ParamCount);

    /// <summary>Weights the optimizer updates.</summary>
    public long TrainableParamCount => layers.Sum(l => l.TrainableParamCount);

    /// <summary>Frozen weights and batch normalization's moving statistics.</summary>
    public long NonTrainableParamCount => layers.Sum(l => l.NonTrainableParamCount);

    /// <summary>
    /// Keras's summary table (TensorFlow 2 layout): each layer's name and class, its output shape with None for the
    /// batch, and its weight count; then total, trainable and non-trainable counts. Text too long for its column
    /// wraps onto the next line, as Keras wraps it. Lines carry no trailing spaces.
    /// <code>
    /// Model: "sequential"
    /// _________________________________________________________________
    ///  Layer (type)                Output Shape              Param #
    /// =================================================================
    ///  conv2d (Conv2D)             (None, 62, 62, 32)        896
    /// </code>
    /// Like Keras's <c>model.summary()</c>, it prints the table (to <paramref name="writer"/>, else
    /// <see cref="Console.Out"/>); <c>print: false</c> only returns it, as <c>Summary(print: false)</c> for a string to
    /// keep or compare.
    /// </summary>
    /// <param name="print">Write the table as well as return it (Keras prints; false for the string alone).</param>
    /// <param name="writer">Where to print (Keras's <c>print_fn</c>); null: the console.</param>
    public string Summary(bool print = true, TextWriter? writer = null)
    {
        string table = SummaryTable();
        if (print) (writer ?? Console.Out).Write(table);
        return table;
    }

    private string SummaryTable()
    {
        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(Name).Append("\"\n");
        sb.Append('_', SummaryWidth).Append('\n');
        Row(sb, "Layer (type)", "Output Shape", "Param #");
        sb.Append('=', SummaryWidth).Append('\n');
        var shown = layers.Where(l => l is not InputLayer).ToList();
        for (int i = 0; i < shown.Count; i++)
        {
            var l = shown[i];
            Row(sb, $"{l.Name} ({l.ClassName})", l.OutputShape.WithBatch(), l.ParamCount.ToString(CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        sb.Append('=', SummaryWidth).Append('\n');
        sb.Append("Total params: ").Append(ParamCount.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Trainable params: ").Append(TrainableParamCount.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Non-trainable params: ").Append(NonTrainableParamCount.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append('_', SummaryWidth).Append('\n');
        return sb.ToString();
    }

    /// <summary>One table row: the first field starts one space in; each field wraps within its column.</summary>
    private static void Row(StringBuilder sb, params string[] fields)
    {
        var chunks = new List<string>[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            int width = SummaryColumns[i] - (i == 0 ? 0 : SummaryColumns[i - 1]) - (i == 0 ? 2 : 1);
            chunks[i] = Wrap(fields[i], width);
        }
        int lines = chunks.Max(c => c.Count);
        for (int line = 0; line < lines; line++)
        {
            var text = new StringBuilder();
            for (int i = 0; i < fields.Length; i++)
            {
                int start = i == 0 ? 0 : SummaryColumns[i - 1];
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
}
