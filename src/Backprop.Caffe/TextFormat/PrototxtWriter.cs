using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Backprop.Caffe.TextFormat;

/// <summary>
/// Writes a protobuf message as text the way Caffe prints it: fields in field-number order, one
/// per line, two spaces of indent per level, blocks as <c>name {</c> ... <c>}</c>, enums by name,
/// strings double-quoted with C escapes. Only fields that are set are written.
/// </summary>
internal static class PrototxtWriter
{
    /// <summary>The text of <paramref name="message"/>; reading it back gives an equal message.</summary>
    public static string Write(IMessage message)
    {
        var text = new StringBuilder();
        WriteFields(text, message, 0);
        return text.ToString();
    }

    private static void WriteFields(StringBuilder text, IMessage message, int depth)
    {
        foreach (FieldDescriptor field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.IsMap) throw new NotSupportedException($"field '{field.Name}' is a map, which this writer does not support");
            object? value = field.Accessor.GetValue(message);
            if (field.IsRepeated)
            {
                foreach (object item in (IList)value!) WriteField(text, field, item, depth);
            }
            else if (IsSet(message, field, value))
            {
                WriteField(text, field, value!, depth);
            }
        }
    }

    private static bool IsSet(IMessage message, FieldDescriptor field, object? value)
    {
        if (field.HasPresence) return field.Accessor.HasValue(message);
        return value switch
        {
            null => false,
            string s => s.Length > 0,
            ByteString b => b.Length > 0,
            bool b => b,
            Enum e => Convert.ToInt64(e, CultureInfo.InvariantCulture) != 0,
            float f => f != 0 || float.IsNegative(f),
            double d => d != 0 || double.IsNegative(d),
            IConvertible c => c.ToDecimal(CultureInfo.InvariantCulture) != 0,
            _ => true,
        };
    }

    private static void WriteField(StringBuilder text, FieldDescriptor field, object value, int depth)
    {
        text.Append(' ', depth * 2).Append(field.Name);
        if (field.FieldType is FieldType.Message or FieldType.Group)
        {
            text.Append(" {\n");
            WriteFields(text, (IMessage)value, depth + 1);
            text.Append(' ', depth * 2).Append("}\n");
            return;
        }
        text.Append(": ").Append(FormatScalar(field, value)).Append('\n');
    }

    private static string FormatScalar(FieldDescriptor field, object value) => value switch
    {
        string s => Quote(Encoding.UTF8.GetBytes(s), keepUtf8: true),
        ByteString b => Quote(b.ToByteArray(), keepUtf8: false),
        bool b => b ? "true" : "false",
        float f => FormatFloatingPoint(f, f.ToString("R", CultureInfo.InvariantCulture)),
        double d => FormatFloatingPoint(d, d.ToString("R", CultureInfo.InvariantCulture)),
        Enum e => EnumName(field.EnumType, Convert.ToInt32(e, CultureInfo.InvariantCulture)),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"field '{field.Name}' holds a {value.GetType().Name}, which has no text form"),
    };

    private static string EnumName(EnumDescriptor type, int number) =>
        type.FindValueByNumber(number)?.Name ?? number.ToString(CultureInfo.InvariantCulture);

    // inf, -inf, nan as protobuf writes them; exponents in lower case (1e-08).
    private static string FormatFloatingPoint(double value, string roundTrip)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        return roundTrip.Replace('E', 'e');
    }

    // Double-quoted with C escapes. Control bytes (and, for bytes fields, every non-ASCII byte)
    // become 3-digit octal escapes; UTF-8 text in string fields is kept readable.
    private static string Quote(byte[] bytes, bool keepUtf8)
    {
        var quoted = new StringBuilder(bytes.Length + 2).Append('"');
        var pending = new List<byte>();
        foreach (byte b in bytes)
        {
            if (b >= 0x80 && keepUtf8)
            {
                pending.Add(b);
                continue;
            }
            Flush();
            switch (b)
            {
                case (byte)'\n': quoted.Append("\\n"); break;
                case (byte)'\r': quoted.Append("\\r"); break;
                case (byte)'\t': quoted.Append("\\t"); break;
                case (byte)'"': quoted.Append("\\\""); break;
                case (byte)'\'': quoted.Append("\\'"); break;
                case (byte)'\\': quoted.Append("\\\\"); break;
                default:
                    if (b < 0x20 || b >= 0x7F) quoted.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
                    else quoted.Append((char)b);
                    break;
            }
        }
        Flush();
        return quoted.Append('"').ToString();

        void Flush()
        {
            if (pending.Count == 0) return;
            quoted.Append(Encoding.UTF8.GetString(pending.ToArray()));
            pending.Clear();
        }
    }
}
