using System.Globalization;
using System.Text;

namespace Backprop.Caffe.Layers;

/// <summary>
/// A Python layer's <c>param_str</c> read as py-faster-rcnn writes it (a small YAML mapping): entries
/// <c>'key': value</c> separated by commas or new lines, optionally inside <c>{ }</c>; values are numbers, quoted or
/// bare strings, booleans, or lists in <c>[ ]</c> or <c>( )</c> (a <c>!!python/tuple</c> tag is allowed). Keys a layer
/// does not read are ignored, as the Python layers ignore them.
/// </summary>
internal sealed class PythonParamString
{
    private readonly Dictionary<string, object> values = new(StringComparer.Ordinal);
    private readonly string where;

    /// <summary>Parses <paramref name="text"/>; errors name <paramref name="where"/> (the layer).</summary>
    public PythonParamString(string text, string where)
    {
        this.where = where;
        string body = text.Trim();
        if (body.StartsWith('{') && body.EndsWith('}')) body = body[1..^1];
        foreach (string entry in SplitTopLevel(body, [',', '\n', ';']))
        {
            string e = entry.Trim();
            if (e.Length == 0 || e.StartsWith('#')) continue;
            int colon = KeyColon(e);
            if (colon < 0) throw Fail($"entry \"{e}\" is not 'key': value.");
            string key = Unquote(e[..colon].Trim());
            if (key.Length == 0) throw Fail($"entry \"{e}\" has an empty key.");
            if (!values.TryAdd(key, ParseValue(e[(colon + 1)..].Trim()))) throw Fail($"key '{key}' is given twice.");
        }
    }

    /// <summary>The keys given.</summary>
    public IReadOnlyCollection<string> Keys => values.Keys;

    /// <summary>An integer value; <paramref name="fallback"/> when absent (null: the key is required).</summary>
    public int Int(string key, int? fallback = null)
    {
        if (!values.TryGetValue(key, out var v))
            return fallback ?? throw Fail($"needs '{key}' (for example \"'{key}': 16\").");
        return v is double d && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue ? (int)d
            : throw Fail($"'{key}' must be a whole number, got {Show(v)}.");
    }

    /// <summary>A list of numbers (a single number is a list of one); <paramref name="fallback"/> when absent.</summary>
    public float[] Floats(string key, float[] fallback)
    {
        if (!values.TryGetValue(key, out var v)) return fallback;
        var items = v is List<object> list ? list : [v];
        if (items.Count == 0) throw Fail($"'{key}' must list at least one number.");
        return items.Select(i => i is double d ? (float)d : throw Fail($"'{key}' must list numbers, got {Show(v)}.")).ToArray();
    }

    private CaffeNetException Fail(string message) => new($"{where}: python_param param_str {message}");

    private object ParseValue(string s)
    {
        if (s.StartsWith("!!python/tuple", StringComparison.Ordinal)) s = s["!!python/tuple".Length..].Trim();
        if (s.Length == 0) throw Fail("has a key with no value.");
        if ((s[0] == '[' && s[^1] == ']') || (s[0] == '(' && s[^1] == ')'))
            return SplitTopLevel(s[1..^1], [',']).Select(x => x.Trim()).Where(x => x.Length > 0).Select(ParseValue).ToList();
        if (s[0] is '\'' or '"') return Unquote(s);
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        return s switch { "True" or "true" => true, "False" or "false" => false, _ => s };
    }

    private static string Show(object v) => v is List<object> l ? "[" + string.Join(", ", l.Select(Show)) + "]" : Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";

    private static string Unquote(string s) =>
        s.Length >= 2 && (s[0] is '\'' or '"') && s[^1] == s[0] ? s[1..^1] : s;

    // The colon that ends the key: the first one outside quotes.
    private static int KeyColon(string entry)
    {
        char quote = '\0';
        for (int i = 0; i < entry.Length; i++)
        {
            char c = entry[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c is '\'' or '"') quote = c;
            else if (c == ':') return i;
        }
        return -1;
    }

    // Splits at separators outside quotes and brackets.
    private static List<string> SplitTopLevel(string s, char[] separators)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        int depth = 0;
        char quote = '\0';
        foreach (char c in s)
        {
            if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c is '\'' or '"') quote = c;
            else if (c is '[' or '(' or '{') depth++;
            else if (c is ']' or ')' or '}') depth--;
            else if (depth == 0 && Array.IndexOf(separators, c) >= 0) { parts.Add(current.ToString()); current.Clear(); continue; }
            current.Append(c);
        }
        parts.Add(current.ToString());
        return parts;
    }
}
