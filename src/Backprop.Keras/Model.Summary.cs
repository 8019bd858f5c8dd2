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
        var calls = graph.Calls;
        var nodes = graph.Layers.Select(l => (Layer: l, Calls: calls.Where(c => c.Layer == l).ToList())).ToList();
        // Keras: a chain only when every call takes one tensor and no layer is called twice.
        bool sequentialLike = nodes.All(n => n.Calls.Count == 1 && n.Calls[0].Inbound.Count <= 1);
        int width = sequentialLike ? 65 : 98;
        int[] positions = sequentialLike ? [29, 55, 65] : [32, 53, 65, 98];   // Keras: .45/.85/1 of 65, .33/.55/.67/1 of 98
        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(Name).Append("\"\n");
        sb.Append('_', width).Append('\n');
        string[] header = sequentialLike ? ["Layer (type)", "Output Shape", "Param #"] : ["Layer (type)", "Output Shape", "Param #", "Connected to"];
        SummaryRows.Row(sb, positions, header, listColumn: 3);
        sb.Append('=', width).Append('\n');
        foreach (var (layer, layerCalls) in nodes)
        {
            var node = layerCalls[0];
            string shape = layer is InputLayer ? $"[{node.Shape.WithBatch()}]" : node.Shape.WithBatch();
            var fields = new List<string> { $"{layer.Name} ({layer.ClassName})", shape, layer.ParamCount.ToString(CultureInfo.InvariantCulture) };
            if (!sequentialLike)
                fields.Add("[" + string.Join(", ", layerCalls.SelectMany(c => c.Inbound).Select(t => $"'{t.Layer.Name}[{graph.CallIndex(t)}][0]'")) + "]");
            SummaryRows.Row(sb, positions, [.. fields], listColumn: 3);
            sb.Append('\n');
        }
        sb.Append('=', width).Append('\n');
        sb.Append("Total params: ").Append(ParamCount.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Trainable params: ").Append(TrainableParamCount.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Non-trainable params: ").Append(NonTrainableParamCount.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append('_', width).Append('\n');
        return sb.ToString();
    }
}
