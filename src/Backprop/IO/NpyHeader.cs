using System.Globalization;
using System.Text;

namespace Backprop.IO;

/// <summary>
/// The header dictionary of a .npy file, <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>:
/// parsed by a small recursive-descent reader for the Python literals NumPy writes (strings, integers,
/// True/False/None, tuples, lists, dicts). Nothing is evaluated. Errors are <see cref="FormatException"/>
/// with the offending position; <see cref="NpyFile"/> wraps them with the file name.
/// </summary>
internal sealed class NpyHeader
{
    private const int MaxDepth = 16;

    private NpyHeader(ElementType type, bool bigEndian, bool fortranOrder, long[] shape)
    {
        Type = type;
        BigEndian = bigEndian;
        FortranOrder = fortranOrder;
        Shape = shape;
    }

    public ElementType Type { get; }
    public bool BigEndian { get; }
    public bool FortranOrder { get; }

    /// <summary>The dimensions as written; checked to be non-negative, not yet against any limit.</summary>
    public long[] Shape { get; }

    /// <summary>Parses the header text (without magic, version and length).</summary>
    public static NpyHeader Parse(string text)
    {
        var reader = new LiteralReader(text);
        reader.SkipWhitespace();
        if (reader.Peek() != '{') throw reader.Error("the header is not a dictionary literal");
        var dict = (Dictionary<string, object?>)reader.ReadValue(0)!;
        reader.SkipWhitespace();
        if (!reader.AtEnd) throw reader.Error("unexpected text after the header dictionary");

        foreach (var key in dict.Keys)
            if (key is not ("descr" or "fortran_order" or "shape"))
                throw new FormatException($"the header has an unexpected key '{key}' (a .npy header has exactly 'descr', 'fortran_order' and 'shape')");
        object? descr = Require(dict, "descr");
        object? fortran = Require(dict, "fortran_order");
        object? shape = Require(dict, "shape");

        if (descr is List<object?> or Dictionary<string, object?>)
            throw new FormatException("the array has a structured dtype (record fields); only plain numeric arrays are supported");
        if (descr is not string d) throw new FormatException($"'descr' must be a string, not {Describe(descr)}");
        var (type, bigEndian) = ParseDescr(d);

        if (fortran is not bool fortranOrder) throw new FormatException($"'fortran_order' must be True or False, not {Describe(fortran)}");

        if (shape is not List<object?> dims) throw new FormatException($"'shape' must be a tuple of integers, not {Describe(shape)}");
        var result = new long[dims.Count];
        for (int i = 0; i < dims.Count; i++)
        {
            if (dims[i] is not long n) throw new FormatException($"'shape' dimension {i} is {Describe(dims[i])}, not an integer");
            if (n < 0) throw new FormatException($"'shape' dimension {i} is negative ({n})");
            result[i] = n;
        }
        return new NpyHeader(type, bigEndian, fortranOrder, result);
    }

    /// <summary>The header dictionary NumPy writes for a C-order little-endian float32 array, before padding.</summary>
    public static string Format(IReadOnlyList<int> shape)
    {
        var sb = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }
        if (shape.Count == 1) sb.Append(',');
        sb.Append("), }");
        // NumPy (1.24+) leaves room for the first dimension to grow to 21 digits so the header can be
        // rewritten in place when appending; we do the same so our files match NumPy's byte for byte.
        if (shape.Count > 0) sb.Append(' ', 21 - shape[0].ToString(CultureInfo.InvariantCulture).Length);
        return sb.ToString();
    }

    private static object? Require(Dictionary<string, object?> dict, string key) =>
        dict.TryGetValue(key, out var value) ? value : throw new FormatException($"the header has no '{key}' entry");

    /// <summary>Maps a NumPy type string such as <c>&lt;f4</c> or <c>|u1</c> to an element type and byte order.</summary>
    private static (ElementType Type, bool BigEndian) ParseDescr(string descr)
    {
        string body = descr;
        char order = '=';
        if (body.Length > 0 && body[0] is '<' or '>' or '|' or '=')
        {
            order = body[0];
            body = body[1..];
        }
        ElementType? type = body switch
        {
            "b1" or "?" => ElementType.Bool,
            "u1" or "B" => ElementType.UInt8,
            "i1" or "b" => ElementType.Int8,
            "u2" => ElementType.UInt16,
            "i2" => ElementType.Int16,
            "u4" => ElementType.UInt32,
            "i4" => ElementType.Int32,
            "u8" => ElementType.UInt64,
            "i8" => ElementType.Int64,
            "f2" => ElementType.Float16,
            "f4" => ElementType.Float32,
            "f8" => ElementType.Float64,
            _ => null,
        };
        if (type is null)
        {
            string hint = body.StartsWith('O') ? " (object arrays hold pickled Python objects and are never read)" : "";
            throw new FormatException(
                $"the dtype '{descr}' is not supported{hint}; supported are float16/32/64, int8/16/32/64, uint8/16/32/64 and bool");
        }
        if (order == '|' && type.Value.Size() != 1)
            throw new FormatException($"the dtype '{descr}' has no byte order ('|') but elements of {type.Value.Size()} bytes");
        bool bigEndian = order == '>' || (order == '=' && !BitConverter.IsLittleEndian);
        return (type.Value, bigEndian);
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"the string '{s}'",
        bool b => b ? "True" : "False",
        long n => n.ToString(CultureInfo.InvariantCulture),
        List<object?> => "a sequence",
        Dictionary<string, object?> => "a dictionary",
        _ => value.GetType().Name,
    };

    /// <summary>Reads Python literals; values are string, long, bool, null, List (tuple or list) or Dictionary.</summary>
    private sealed class LiteralReader(string text)
    {
        private int pos;

        public bool AtEnd => pos >= text.Length;

        public char Peek() => pos < text.Length ? text[pos] : '\0';

        public FormatException Error(string what) => new($"{what} at character {pos} of the header");

        public void SkipWhitespace()
        {
            while (pos < text.Length && text[pos] is ' ' or '\t' or '\n' or '\r') pos++;
        }

        public object? ReadValue(int depth)
        {
            if (depth > MaxDepth) throw Error($"literals are nested more than {MaxDepth} deep");
            SkipWhitespace();
            char c = Peek();
            switch (c)
            {
                case '{': return ReadDict(depth);
                case '(': return ReadSequence(')', depth);
                case '[': return ReadSequence(']', depth);
                case '\'' or '"': return ReadString();
            }
            if (c == '-' || char.IsAsciiDigit(c)) return ReadInteger();
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = pos;
                while (pos < text.Length && (char.IsAsciiLetterOrDigit(text[pos]) || text[pos] == '_')) pos++;
                string word = text[start..pos];
                return word switch
                {
                    "True" => true,
                    "False" => false,
                    "None" => null,
                    _ => throw new FormatException($"unexpected name '{word}' at character {start} of the header"),
                };
            }
            throw AtEnd ? Error("the header ends in the middle of a value") : Error($"unexpected character '{c}'");
        }

        private Dictionary<string, object?> ReadDict(int depth)
        {
            pos++; // '{'
            var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (true)
            {
                SkipWhitespace();
                if (AtEnd) throw Error("the header ends inside the dictionary");
                if (Peek() == '}') { pos++; return dict; }
                int keyPos = pos;
                if (ReadValue(depth + 1) is not string key) throw new FormatException($"a dictionary key at character {keyPos} of the header is not a string");
                SkipWhitespace();
                if (Peek() != ':') throw Error("expected ':' after a dictionary key");
                pos++;
                object? value = ReadValue(depth + 1);
                if (!dict.TryAdd(key, value)) throw new FormatException($"the header has the key '{key}' twice");
                SkipWhitespace();
                if (Peek() == ',') pos++;
                else if (Peek() != '}') throw AtEnd ? Error("the header ends inside the dictionary") : Error("expected ',' or '}' in the dictionary");
            }
        }

        private List<object?> ReadSequence(char close, int depth)
        {
            pos++; // '(' or '['
            var items = new List<object?>();
            while (true)
            {
                SkipWhitespace();
                if (AtEnd) throw Error("the header ends inside a sequence");
                if (Peek() == close) { pos++; return items; }
                items.Add(ReadValue(depth + 1));
                SkipWhitespace();
                if (Peek() == ',') pos++;
                else if (Peek() != close) throw AtEnd ? Error("the header ends inside a sequence") : Error($"expected ',' or '{close}'");
            }
        }

        private string ReadString()
        {
            char quote = text[pos++];
            var sb = new StringBuilder();
            while (true)
            {
                if (AtEnd) throw Error("the header ends inside a string");
                char c = text[pos++];
                if (c == quote) return sb.ToString();
                if (c == '\\')
                {
                    if (AtEnd) throw Error("the header ends inside a string");
                    char e = text[pos++];
                    if (e is not ('\\' or '\'' or '"')) throw Error($"unsupported escape '\\{e}' in a string");
                    sb.Append(e);
                }
                else if (c == '\n') throw Error("a string runs past the end of the line");
                else sb.Append(c);
            }
        }

        private long ReadInteger()
        {
            int start = pos;
            if (Peek() == '-') pos++;
            int digitsStart = pos;
            while (pos < text.Length && char.IsAsciiDigit(text[pos])) pos++;
            if (pos == digitsStart) throw Error("expected digits");
            if (!long.TryParse(text.AsSpan(start, pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                throw new FormatException($"the integer '{text[start..pos]}' at character {start} of the header is too large");
            if (Peek() is 'L' or 'l') pos++; // Python 2 long suffix, written by old NumPy
            return value;
        }
    }
}
