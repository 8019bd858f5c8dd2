using System.Text;

namespace Backprop.Keras;

/// <summary>The rows of the summary tables Sequential and Model print, laid out alike so a chain prints the same either way.</summary>
internal static class SummaryRows
{
    /// <summary>
    /// One row of a Keras summary table: the first field starts one space in, each field ends before the next column's
    /// position, and text too long for its column wraps at a space onto the next line; the list in column
    /// <paramref name="listColumn"/> (a functional model's "Connected to") wraps after each entry, as Keras prints it.
    /// </summary>
    public static void Row(StringBuilder sb, int[] positions, string[] fields, int listColumn = -1)
    {
        var chunks = new List<string>[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            int width = positions[i] - (i == 0 ? 0 : positions[i - 1]) - (i == 0 ? 2 : 1);
            chunks[i] = i == listColumn ? WrapList(fields[i], width) : Wrap(fields[i], width);
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
