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

    private static void Row(StringBuilder sb, params string[] fields) => SummaryRows.Row(sb, SummaryColumns, fields);
}
