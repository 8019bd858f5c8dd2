using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Backprop.Caffe.TextFormat;

/// <summary>
/// Fills a generated protobuf message from protobuf text format, guided only by the message's
/// descriptor, so it works for every message of caffe.proto (and any other schema).
/// </summary>
/// <remarks>
/// Structure handled here: <c>name: value</c>; blocks <c>name { ... }</c>, <c>name: { ... }</c> and
/// <c>name &lt; ... &gt;</c>; repeated fields by repetition or as a list <c>name: [a, b]</c> (for
/// messages also <c>name [{...}, {...}]</c>); an
/// optional <c>;</c> or <c>,</c> after any field. As in Caffe (protobuf's TextFormat::Parse), an
/// unknown field, a non-repeated field given twice, or a missing required field is an error.
/// Scalar values are read by <see cref="PrototxtScalars"/>.
/// </remarks>
internal sealed class PrototxtReader
{
    /// <summary>Deepest nesting of blocks accepted; protobuf's own parsers stop at the same depth.</summary>
    public const int MaxDepth = 100;

    private readonly PrototxtTokenizer _tokens;
    private int _depth;

    /// <summary>Prepares to read <paramref name="text"/>; <paramref name="fileName"/> is used in error messages.</summary>
    public PrototxtReader(string text, string fileName)
    {
        _tokens = new PrototxtTokenizer(text, fileName);
    }

    /// <summary>Reads the whole text into <paramref name="message"/> (fields already set stay set).</summary>
    public void ReadInto(IMessage message)
    {
        Token start = _tokens.Current;
        ReadFields(message, closer: null, opener: new Token(TokenKind.Identifier, "", start.Line, start.Column));
    }

    // Reads fields until `closer` ('}' or '>') or, at top level (closer null), the end of the text.
    private void ReadFields(IMessage message, string? closer, Token opener)
    {
        while (true)
        {
            Token token = _tokens.Current;
            if (closer is not null && token.IsSymbol(closer))
            {
                _tokens.Next();
                CheckRequired(message, opener);
                return;
            }
            if (token.Kind == TokenKind.End)
            {
                if (closer is null)
                {
                    CheckRequired(message, opener);
                    return;
                }
                throw _tokens.Error(token,
                    $"end of file inside '{opener.Shown}' (opened at {opener.Line}:{opener.Column}); expected '{closer}'");
            }
            if (token.IsSymbol("}") || token.IsSymbol(">"))
            {
                throw _tokens.Error(token, closer is null
                    ? $"unmatched '{token.Shown}': no block is open here"
                    : $"expected '{closer}' to close '{opener.Shown}' (opened at {opener.Line}:{opener.Column}), found '{token.Shown}'");
            }
            if (token.Kind != TokenKind.Identifier)
            {
                throw _tokens.Error(token, $"expected a field name, found {token.Describe()}");
            }
            _tokens.Next();
            FieldDescriptor? field = message.Descriptor.FindFieldByName(token.Text);
            if (field is null)
            {
                throw _tokens.Error(token, UnknownField(message.Descriptor, token.Text));
            }
            ReadField(message, field, token);
            if (_tokens.Current.IsSymbol(";") || _tokens.Current.IsSymbol(",")) _tokens.Next();
        }
    }

    private void ReadField(IMessage message, FieldDescriptor field, Token name)
    {
        if (field.IsMap)
        {
            throw _tokens.Error(name, $"field '{field.Name}' is a map, which this reader does not support");
        }
        if (field.FieldType is FieldType.Message or FieldType.Group)
        {
            TryConsume(":"); // optional before a block, as in protobuf
            if (_tokens.Current.IsSymbol("[") && field.IsRepeated)
            {
                ReadList(field, name, () => ReadMessage(field, _tokens.Current), message);
                return;
            }
            Store(message, field, name, ReadMessage(field, name));
            return;
        }

        Token next = _tokens.Current;
        if (next.IsSymbol("{") || next.IsSymbol("<"))
        {
            throw _tokens.Error(next,
                $"field '{field.Name}' holds a {PrototxtScalars.TypeName(field)}, not a message; write '{field.Name}: value'");
        }
        if (!TryConsume(":"))
        {
            throw _tokens.Error(next, $"expected ':' after field name '{field.Name}', found {next.Describe()}");
        }
        if (_tokens.Current.IsSymbol("["))
        {
            if (!field.IsRepeated)
            {
                throw _tokens.Error(_tokens.Current, $"field '{field.Name}' is not repeated, so it cannot take a [list]");
            }
            ReadList(field, name, () => PrototxtScalars.Read(_tokens, field), message);
            return;
        }
        Store(message, field, name, PrototxtScalars.Read(_tokens, field));
    }

    // [a, b, c] — possibly empty; the cursor is on '['.
    private void ReadList(FieldDescriptor field, Token name, Func<object> readItem, IMessage message)
    {
        _tokens.Next();
        if (TryConsume("]")) return;
        while (true)
        {
            Store(message, field, name, readItem());
            if (TryConsume("]")) return;
            if (!TryConsume(","))
            {
                throw _tokens.Error(_tokens.Current,
                    $"expected ',' or ']' in the list for field '{field.Name}', found {_tokens.Current.Describe()}");
            }
        }
    }

    // A block { ... } or < ... > read into a new message of the field's type.
    private IMessage ReadMessage(FieldDescriptor field, Token name)
    {
        Token open = _tokens.Current;
        string closer = open.IsSymbol("{") ? "}" : open.IsSymbol("<") ? ">" : "";
        if (closer.Length == 0)
        {
            throw _tokens.Error(open,
                $"expected '{{' to open field '{field.Name}' ({field.MessageType.FullName}), found {open.Describe()}");
        }
        if (_depth == MaxDepth)
        {
            throw _tokens.Error(open, $"blocks are nested more than {MaxDepth} deep");
        }
        _tokens.Next();
        var child = (IMessage)Activator.CreateInstance(field.MessageType.ClrType)!;
        _depth++;
        ReadFields(child, closer, name with { Text = field.Name });
        _depth--;
        return child;
    }

    private void Store(IMessage message, FieldDescriptor field, Token name, object value)
    {
        if (field.IsRepeated)
        {
            ((IList)field.Accessor.GetValue(message)).Add(value);
            return;
        }
        // Fields without presence (proto3 scalars) cannot tell "set twice" from "set to the default".
        if (field.HasPresence && field.Accessor.HasValue(message))
        {
            throw _tokens.Error(name, $"field '{field.Name}' is given more than once, but it is not repeated");
        }
        field.Accessor.SetValue(message, value);
    }

    private void CheckRequired(IMessage message, Token opener)
    {
        foreach (FieldDescriptor field in message.Descriptor.Fields.InDeclarationOrder())
        {
            if (field.IsRequired && !field.Accessor.HasValue(message))
            {
                string where = opener.Text.Length > 0 ? $"'{opener.Shown}' ({message.Descriptor.FullName})" : message.Descriptor.FullName;
                throw _tokens.Error(opener, $"required field '{field.Name}' is missing in {where}");
            }
        }
    }

    private bool TryConsume(string symbol)
    {
        if (!_tokens.Current.IsSymbol(symbol)) return false;
        _tokens.Next();
        return true;
    }

    private static string UnknownField(MessageDescriptor type, string name)
    {
        string message = $"unknown field '{Token.Shorten(name)}' in {type.FullName}";
        string? near = NameSuggestion.Closest(name, type.Fields.InDeclarationOrder().Select(f => f.Name));
        return near is null ? message : $"{message}; did you mean '{near}'?";
    }
}
