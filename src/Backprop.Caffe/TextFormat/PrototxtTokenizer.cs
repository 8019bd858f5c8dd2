using System.Text;

namespace Backprop.Caffe.TextFormat;

/// <summary>
/// Splits protobuf text into tokens one at a time, skipping blanks and <c>#</c> comments and
/// keeping the line and column of each token for error messages.
/// </summary>
/// <remarks>
/// Tokens are read lazily, so the first mistake in the file is the one reported. Numbers are
/// scanned loosely (a run of letters, digits, dots and exponent signs) and checked by the reader
/// against the field's type, which can say "expected an integer for field 'x'" rather than a
/// generic lexing error.
/// </remarks>
internal sealed class PrototxtTokenizer
{
    private const string Symbols = "{}<>[]:,;-";

    private readonly string _text;
    private readonly string _fileName;
    private int _position;
    private int _line = 1;
    private int _column = 1;

    /// <summary>Starts reading <paramref name="text"/>; the first token is in <see cref="Current"/>.</summary>
    public PrototxtTokenizer(string text, string fileName)
    {
        _text = text;
        _fileName = fileName;
        if (_text.Length > 0 && _text[0] == '\uFEFF') _position = 1;
        Current = ReadToken();
    }

    /// <summary>The token under the cursor.</summary>
    public Token Current { get; private set; }

    /// <summary>Moves to the next token and returns the one that was current.</summary>
    public Token Next()
    {
        Token previous = Current;
        if (previous.Kind != TokenKind.End) Current = ReadToken();
        return previous;
    }

    /// <summary>An error located at <paramref name="token"/>.</summary>
    public PrototxtException Error(Token token, string detail) => new(_fileName, token.Line, token.Column, detail);

    private PrototxtException Error(int line, int column, string detail) => new(_fileName, line, column, detail);

    private Token ReadToken()
    {
        SkipBlanksAndComments();
        int line = _line, column = _column, start = _position;
        if (_position >= _text.Length) return new Token(TokenKind.End, "", line, column);

        char c = _text[_position];
        if (IsIdentifierStart(c))
        {
            while (_position < _text.Length && IsIdentifierPart(_text[_position])) Advance();
            return new Token(TokenKind.Identifier, _text[start.._position], line, column);
        }
        if (char.IsAsciiDigit(c) || (c == '.' && _position + 1 < _text.Length && char.IsAsciiDigit(_text[_position + 1])))
        {
            ScanNumber();
            return new Token(TokenKind.Number, _text[start.._position], line, column);
        }
        if (c == '"' || c == '\'') return ReadString(c, line, column);
        if (Symbols.Contains(c))
        {
            Advance();
            return new Token(TokenKind.Symbol, c.ToString(), line, column);
        }
        throw Error(line, column, $"unexpected character '{c}'");
    }

    private void SkipBlanksAndComments()
    {
        while (_position < _text.Length)
        {
            char c = _text[_position];
            if (c == '#')
            {
                while (_position < _text.Length && _text[_position] != '\n') Advance();
            }
            else if (char.IsWhiteSpace(c))
            {
                Advance();
            }
            else
            {
                return;
            }
        }
    }

    // A loose run: digits, letters, '_', '.', and a sign right after an exponent 'e' of a decimal number.
    private void ScanNumber()
    {
        bool hex = _position + 1 < _text.Length && _text[_position] == '0' && (_text[_position + 1] is 'x' or 'X');
        while (_position < _text.Length)
        {
            char c = _text[_position];
            if (IsIdentifierPart(c) || c == '.')
            {
                Advance();
            }
            else if ((c == '+' || c == '-') && !hex && _text[_position - 1] is 'e' or 'E')
            {
                Advance();
            }
            else
            {
                return;
            }
        }
    }

    private Token ReadString(char quote, int line, int column)
    {
        int start = _position;
        Advance();
        var bytes = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        while (true)
        {
            if (_position >= _text.Length || _text[_position] == '\n')
            {
                throw Error(line, column, $"unterminated string (no closing {quote} on this line)");
            }
            char c = _text[_position];
            if (c == quote)
            {
                Advance();
                return new Token(TokenKind.String, _text[start.._position], line, column, bytes.ToArray());
            }
            if (c == '\\')
            {
                ReadEscape(bytes);
                continue;
            }
            bool pair = char.IsHighSurrogate(c) && _position + 1 < _text.Length && char.IsLowSurrogate(_text[_position + 1]);
            Rune rune = pair ? new Rune(c, _text[_position + 1]) : Rune.IsValid(c) ? new Rune(c) : Rune.ReplacementChar;
            int count = rune.EncodeToUtf8(utf8);
            for (int i = 0; i < count; i++) bytes.Add(utf8[i]);
            Advance();
            if (pair) Advance();
        }
    }

    // C escapes: \n \t \r \a \b \f \v \\ \' \" \? , octal \NNN (1-3 digits), hex \xHH (1-2 digits),
    // and \uXXXX / \UXXXXXXXX (written as UTF-8).
    private void ReadEscape(List<byte> bytes)
    {
        int line = _line, column = _column;
        Advance(); // the backslash
        if (_position >= _text.Length || _text[_position] == '\n')
        {
            throw Error(line, column, "unterminated escape at end of line");
        }
        char c = _text[_position];
        Advance();
        switch (c)
        {
            case 'n': bytes.Add((byte)'\n'); return;
            case 't': bytes.Add((byte)'\t'); return;
            case 'r': bytes.Add((byte)'\r'); return;
            case 'a': bytes.Add(0x07); return;
            case 'b': bytes.Add(0x08); return;
            case 'f': bytes.Add(0x0C); return;
            case 'v': bytes.Add(0x0B); return;
            case '\\': bytes.Add((byte)'\\'); return;
            case '\'': bytes.Add((byte)'\''); return;
            case '"': bytes.Add((byte)'"'); return;
            case '?': bytes.Add((byte)'?'); return;
        }
        if (c is >= '0' and <= '7')
        {
            int value = c - '0';
            for (int i = 0; i < 2 && _position < _text.Length && _text[_position] is >= '0' and <= '7'; i++)
            {
                value = value * 8 + (_text[_position] - '0');
                Advance();
            }
            if (value > 0xFF) throw Error(line, column, $"octal escape \\{Convert.ToString(value, 8)} is larger than one byte");
            bytes.Add((byte)value);
            return;
        }
        if (c == 'x' || c == 'X')
        {
            int value = 0, digits = 0;
            while (digits < 2 && _position < _text.Length && char.IsAsciiHexDigit(_text[_position]))
            {
                value = value * 16 + Convert.ToInt32(_text[_position].ToString(), 16);
                Advance();
                digits++;
            }
            if (digits == 0) throw Error(line, column, "\\x escape needs at least one hex digit");
            bytes.Add((byte)value);
            return;
        }
        if (c == 'u' || c == 'U')
        {
            int count = c == 'u' ? 4 : 8;
            if (_position + count > _text.Length || !AllHexDigits(_text.AsSpan(_position, count)))
            {
                throw Error(line, column, $"\\{c} escape needs {count} hex digits");
            }
            int code = Convert.ToInt32(_text.Substring(_position, count), 16);
            for (int i = 0; i < count; i++) Advance();
            if (!Rune.IsValid(code)) throw Error(line, column, $"\\{c} escape U+{code:X} is not a Unicode scalar value");
            Span<byte> utf8 = stackalloc byte[4];
            int n = new Rune(code).EncodeToUtf8(utf8);
            for (int i = 0; i < n; i++) bytes.Add(utf8[i]);
            return;
        }
        throw Error(line, column, $"unknown escape '\\{c}' in string");
    }

    private void Advance()
    {
        if (_text[_position] == '\n')
        {
            _line++;
            _column = 1;
        }
        else
        {
            _column++;
        }
        _position++;
    }

    private static bool AllHexDigits(ReadOnlySpan<char> span)
    {
        foreach (char c in span)
        {
            if (!char.IsAsciiHexDigit(c)) return false;
        }
        return true;
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
