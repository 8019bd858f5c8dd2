using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Backprop.Caffe.TextFormat;

/// <summary>
/// Reads one scalar value (number, bool, enum, string or bytes) of protobuf text for a given
/// field, checking it against the field's type and range.
/// </summary>
/// <remarks>
/// Accepted forms follow protobuf's own text parser: integers in decimal, hex (<c>0x1F</c>) or
/// octal (<c>017</c>), with a leading <c>-</c> for signed types; floats with exponents and an
/// optional trailing <c>f</c>, integers, and <c>inf</c>/<c>infinity</c>/<c>nan</c> in any case;
/// bools as <c>true</c>/<c>false</c>/<c>True</c>/<c>False</c>/<c>t</c>/<c>f</c>/<c>1</c>/<c>0</c>;
/// enums by name or number; strings as one or more adjacent quoted pieces.
/// </remarks>
internal static class PrototxtScalars
{
    /// <summary>Reads the value at the tokenizer's cursor for <paramref name="field"/>, boxed as the field's CLR type.</summary>
    public static object Read(PrototxtTokenizer tokens, FieldDescriptor field)
    {
        Token first = tokens.Current;
        if (first.Kind == TokenKind.End || (first.Kind == TokenKind.Symbol && first.Text != "-"))
        {
            throw tokens.Error(first, $"missing value for field '{field.Name}' ({TypeName(field)}), found {first.Describe()}");
        }
        return field.FieldType switch
        {
            FieldType.String => ReadString(tokens, field),
            FieldType.Bytes => ByteString.CopyFrom(ReadStringBytes(tokens, field)),
            FieldType.Bool => ReadBool(tokens, field),
            FieldType.Enum => ReadEnum(tokens, field),
            FieldType.Float => (float)ReadFloatingPoint(tokens, field),
            FieldType.Double => ReadFloatingPoint(tokens, field),
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => (int)ReadInteger(tokens, field, int.MinValue, int.MaxValue),
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => (long)ReadInteger(tokens, field, long.MinValue, long.MaxValue),
            FieldType.UInt32 or FieldType.Fixed32 => (uint)ReadInteger(tokens, field, 0, uint.MaxValue),
            FieldType.UInt64 or FieldType.Fixed64 => ReadUInt64(tokens, field),
            _ => throw tokens.Error(first, $"field '{field.Name}' has type {field.FieldType}, which text format cannot set"),
        };
    }

    /// <summary>The field's type as a message shows it: "float", "uint32", "string", or the enum/message's full name.</summary>
    public static string TypeName(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Enum => field.EnumType.FullName,
        FieldType.Message or FieldType.Group => field.MessageType.FullName,
        _ => field.FieldType.ToString().ToLowerInvariant(),
    };

    private static string ReadString(PrototxtTokenizer tokens, FieldDescriptor field)
    {
        Token first = tokens.Current;
        byte[] bytes = ReadStringBytes(tokens, field);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw tokens.Error(first, $"string for field '{field.Name}' is not valid UTF-8 (use a bytes field for binary data)");
        }
    }

    // One or more adjacent quoted pieces, joined: "abc" 'def' reads as "abcdef".
    private static byte[] ReadStringBytes(PrototxtTokenizer tokens, FieldDescriptor field)
    {
        Token first = tokens.Current;
        if (first.Kind != TokenKind.String)
        {
            throw tokens.Error(first, $"expected a quoted string for field '{field.Name}' ({TypeName(field)}), found {first.Describe()}");
        }
        var bytes = new List<byte>();
        while (tokens.Current.Kind == TokenKind.String) bytes.AddRange(tokens.Next().Bytes!);
        return bytes.ToArray();
    }

    private static bool ReadBool(PrototxtTokenizer tokens, FieldDescriptor field)
    {
        Token token = tokens.Next();
        switch (token.Text)
        {
            case "true" or "True" or "t" when token.Kind == TokenKind.Identifier:
            case "1" when token.Kind == TokenKind.Number:
                return true;
            case "false" or "False" or "f" when token.Kind == TokenKind.Identifier:
            case "0" when token.Kind == TokenKind.Number:
                return false;
            default:
                throw tokens.Error(token, $"expected true or false for field '{field.Name}' (bool), found {token.Describe()}");
        }
    }

    private static object ReadEnum(PrototxtTokenizer tokens, FieldDescriptor field)
    {
        EnumDescriptor type = field.EnumType;
        Token first = tokens.Current;
        EnumValueDescriptor? value;
        if (first.Kind == TokenKind.Identifier)
        {
            tokens.Next();
            value = type.FindValueByName(first.Text);
        }
        else
        {
            long number = ReadInteger(tokens, field, int.MinValue, int.MaxValue);
            value = type.FindValueByNumber((int)number);
        }
        if (value is null)
        {
            string names = string.Join(", ", type.Values.Select(v => v.Name));
            throw tokens.Error(first, $"unknown value {first.Describe()} for field '{field.Name}' ({type.FullName}); expected one of {names}");
        }
        return Enum.ToObject(type.ClrType, value.Number);
    }

    private static double ReadFloatingPoint(PrototxtTokenizer tokens, FieldDescriptor field)
    {
        Token first = tokens.Current;
        bool negative = TryConsumeMinus(tokens);
        Token token = tokens.Next();
        double magnitude;
        if (token.Kind == TokenKind.Identifier && token.Text.ToLowerInvariant() is "inf" or "infinity")
        {
            magnitude = double.PositiveInfinity;
        }
        else if (token.Kind == TokenKind.Identifier && token.Text.Equals("nan", StringComparison.OrdinalIgnoreCase))
        {
            magnitude = double.NaN;
        }
        else if (token.Kind == TokenKind.Number && ParseInteger(token.Text, out ulong integer) == IntegerSyntax.Valid)
        {
            magnitude = integer;
        }
        else if (token.Kind == TokenKind.Number && TryParseDecimalFloat(token.Text, out double parsed))
        {
            magnitude = parsed;
        }
        else
        {
            throw tokens.Error(negative ? first : token,
                $"expected a number for field '{field.Name}' ({TypeName(field)}), found {token.Describe()}");
        }
        return negative ? -magnitude : magnitude;
    }

    // Reads an integer that must lie in [min, max]; returned as long (callers narrow it).
    private static long ReadInteger(PrototxtTokenizer tokens, FieldDescriptor field, long min, long max)
    {
        Token first = tokens.Current;
        bool negative = TryConsumeMinus(tokens);
        Token token = tokens.Next();
        ulong magnitude = ReadMagnitude(tokens, field, token, negative ? first : token);
        bool fits = negative
            ? min < 0 && magnitude <= (ulong)-(min + 1) + 1
            : magnitude <= (ulong)max;
        if (!fits)
        {
            string written = (negative ? "-" : "") + token.Text;
            throw tokens.Error(first, $"value {Token.Shorten(written)} is out of range for field '{field.Name}' ({TypeName(field)})");
        }
        return negative ? unchecked((long)(0UL - magnitude)) : (long)magnitude;
    }

    private static ulong ReadUInt64(PrototxtTokenizer tokens, FieldDescriptor field)
    {
        Token first = tokens.Current;
        if (first.IsSymbol("-"))
        {
            tokens.Next();
            throw tokens.Error(first, $"value -{tokens.Current.Shown} is out of range for field '{field.Name}' ({TypeName(field)})");
        }
        Token token = tokens.Next();
        return ReadMagnitude(tokens, field, token, token);
    }

    private static ulong ReadMagnitude(PrototxtTokenizer tokens, FieldDescriptor field, Token token, Token errorAt)
    {
        ulong magnitude = 0;
        IntegerSyntax syntax = token.Kind == TokenKind.Number ? ParseInteger(token.Text, out magnitude) : IntegerSyntax.Invalid;
        if (syntax == IntegerSyntax.Overflow)
        {
            throw tokens.Error(errorAt, $"value {token.Shown} is out of range for field '{field.Name}' ({TypeName(field)})");
        }
        if (syntax == IntegerSyntax.Invalid)
        {
            throw tokens.Error(errorAt, $"expected an integer for field '{field.Name}' ({TypeName(field)}), found {token.Describe()}");
        }
        return magnitude;
    }

    private static bool TryConsumeMinus(PrototxtTokenizer tokens)
    {
        if (!tokens.Current.IsSymbol("-")) return false;
        tokens.Next();
        return true;
    }

    private enum IntegerSyntax { Valid, Invalid, Overflow }

    // Decimal, 0x hex, or 0-prefixed octal, as protobuf's tokenizer reads them.
    private static IntegerSyntax ParseInteger(string text, out ulong value)
    {
        value = 0;
        int radix = 10, start = 0;
        if (text.Length > 2 && text[0] == '0' && (text[1] is 'x' or 'X'))
        {
            radix = 16;
            start = 2;
        }
        else if (text.Length > 1 && text[0] == '0')
        {
            radix = 8;
            start = 1;
        }
        bool overflow = false;
        for (int i = start; i < text.Length; i++)
        {
            int digit = HexValue(text[i]);
            if (digit < 0 || digit >= radix) return IntegerSyntax.Invalid;
            if (value > (ulong.MaxValue - (ulong)digit) / (ulong)radix) overflow = true;
            value = unchecked(value * (ulong)radix + (ulong)digit);
        }
        return overflow ? IntegerSyntax.Overflow : IntegerSyntax.Valid;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    // digits[.digits][e[+-]digits][f], or .digits..., with at least one digit in the mantissa.
    private static bool TryParseDecimalFloat(string text, out double value)
    {
        value = 0;
        ReadOnlySpan<char> s = text;
        if (s.Length > 0 && (s[^1] is 'f' or 'F')) s = s[..^1];
        int i = 0, mantissaDigits = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; mantissaDigits++; }
        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; mantissaDigits++; }
        }
        if (mantissaDigits == 0) return false;
        if (i < s.Length && (s[i] is 'e' or 'E'))
        {
            i++;
            if (i < s.Length && (s[i] is '+' or '-')) i++;
            int exponentDigits = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; exponentDigits++; }
            if (exponentDigits == 0) return false;
        }
        if (i != s.Length) return false;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
