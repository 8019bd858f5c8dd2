namespace Backprop.Caffe.TextFormat;

/// <summary>The kinds of token in protobuf text format.</summary>
internal enum TokenKind
{
    /// <summary>A name: field names, enum values, true/false, inf/nan.</summary>
    Identifier,

    /// <summary>Anything that starts like a number; checked against the field's type when it is used.</summary>
    Number,

    /// <summary>A quoted string; <see cref="Token.Bytes"/> holds it with escapes resolved.</summary>
    String,

    /// <summary>One of <c>{ } &lt; &gt; [ ] : , ; -</c>.</summary>
    Symbol,

    /// <summary>The end of the text.</summary>
    End,
}

/// <summary>One token of protobuf text, with the 1-based line and column where it starts.</summary>
/// <param name="Kind">What sort of token it is.</param>
/// <param name="Text">The token as written in the source (a string token includes its quotes).</param>
/// <param name="Line">1-based line of the first character.</param>
/// <param name="Column">1-based column of the first character.</param>
/// <param name="Bytes">For a string token, its content with escapes resolved; otherwise null.</param>
internal readonly record struct Token(TokenKind Kind, string Text, int Line, int Column, byte[]? Bytes = null)
{
    /// <summary>True when this is the symbol <paramref name="symbol"/>.</summary>
    public bool IsSymbol(string symbol) => Kind == TokenKind.Symbol && Text == symbol;

    /// <summary>How the token reads in an error message: quoted text (cut when long), or "end of file".</summary>
    public string Describe() => Kind == TokenKind.End ? "end of file" : $"'{Shown}'";

    /// <summary>The text as an error message shows it: cut after <see cref="MaxShown"/> characters.</summary>
    public string Shown => Shorten(Text);

    /// <summary>Longest token text an error message repeats whole.</summary>
    public const int MaxShown = 40;

    /// <summary><paramref name="text"/>, or its first <see cref="MaxShown"/> characters and its length: a message never echoes a 10-million-digit number.</summary>
    public static string Shorten(string text) =>
        text.Length <= MaxShown ? text : string.Concat(text.AsSpan(0, MaxShown), $"… ({text.Length} characters)");
}
