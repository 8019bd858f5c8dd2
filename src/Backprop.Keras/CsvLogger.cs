using System.Globalization;
using System.Text;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>CSVLogger</c>: one row per epoch, <c>epoch</c> (from 0) then every logged value in sorted name order,
/// e.g. <c>epoch,accuracy,loss,val_accuracy,val_loss</c>. The file is started afresh by each Fit unless
/// <see cref="Append"/>; each row is appended and flushed as its epoch ends.
/// </summary>
public sealed class CsvLogger(string fileName, char separator = ',', bool append = false) : Callback
{
    private string[]? keys;

    public string FileName { get; } = string.IsNullOrEmpty(fileName) ? throw new ArgumentException("CsvLogger needs a file name.", nameof(fileName)) : fileName;
    public char Separator { get; } = separator;
    public bool Append { get; } = append;

    /// <summary>Writes files: rank 0 alone runs it in a data-parallel Fit.</summary>
    public override bool RootRankOnly => true;

    public override void OnTrainBegin()
    {
        keys = null;
        if (!Append) File.WriteAllText(FileName, "");
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        var sb = new StringBuilder();
        if (keys is null)
        {
            keys = [.. logs.Keys.OrderBy(k => k, StringComparer.Ordinal)];
            bool hasHeader = Append && File.Exists(FileName) && new FileInfo(FileName).Length > 0;
            if (!hasHeader) sb.Append("epoch").Append(Separator).AppendJoin(Separator, keys).Append('\n');
        }
        sb.Append(epoch.ToString(CultureInfo.InvariantCulture));
        foreach (var key in keys)
            sb.Append(Separator).Append(logs.TryGetValue(key, out double v) ? v.ToString("R", CultureInfo.InvariantCulture) : "NA");
        sb.Append('\n');
        File.AppendAllText(FileName, sb.ToString());
    }
}
