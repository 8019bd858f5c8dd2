using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace Backprop.IO;

/// <summary>One tensor's entry in a safetensors header.</summary>
internal sealed record SafeTensorsEntry(string Name, ElementType Type, int[] Shape, long Count, long Begin, long End);

/// <summary>A parsed and fully validated safetensors header.</summary>
internal sealed class SafeTensorsHeader
{
    private SafeTensorsHeader(List<SafeTensorsEntry> entries, Dictionary<string, string> metadata, long dataStart)
    {
        Entries = entries;
        Metadata = metadata;
        DataStart = dataStart;
    }

    public List<SafeTensorsEntry> Entries { get; }
    public Dictionary<string, string> Metadata { get; }

    /// <summary>File offset of the byte buffer (8 + header length).</summary>
    public long DataStart { get; }

    /// <summary>Reads the header from the start of <paramref name="stream"/> (seekable) and validates it against the file length.</summary>
    public static SafeTensorsHeader Read(Stream stream, string path)
    {
        InvalidDataException Invalid(string what) => new($"'{path}' is not a valid safetensors file: {what}.");

        long fileLength = stream.Length;
        if (fileLength < 8) throw Invalid($"it has {fileLength} bytes, too few for the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw Invalid($"the header length is {headerLength} bytes but only {fileLength - 8} bytes follow it");
        if (headerLength > SafeTensors.MaxHeaderLength)
            throw Invalid($"the header length is {headerLength} bytes, more than the {SafeTensors.MaxHeaderLength} allowed");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataStart = 8 + (long)headerLength;
        long bufferLength = fileLength - dataStart;

        // System.Text.Json checks UTF-8 only when a string is read, and then throws InvalidOperationException.
        if (!Utf8.IsValid(headerBytes))
            throw Invalid($"the header is not valid UTF-8 text (the first bad byte is at offset {8 + FirstInvalidUtf8(headerBytes)})");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid safetensors file: the header is not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid($"the header is a JSON {root.ValueKind}, not an object");
            var entries = new List<SafeTensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var property in root.EnumerateObject())
                {
                    string name = property.Name;
                    if (!seen.Add(name)) throw Invalid($"the header names '{name}' twice");
                    if (name == "__metadata__") ReadMetadata(property.Value, metadata, Invalid);
                    else entries.Add(ReadEntry(name, property.Value, Invalid));
                }
            }
            catch (InvalidOperationException e)   // a \uD800 escape: a lone surrogate is no text
            {
                throw new InvalidDataException($"'{path}' is not a valid safetensors file: the header has a string that is not valid Unicode ({e.Message}).", e);
            }
            CheckLayout(entries, bufferLength, Invalid);
            return new SafeTensorsHeader(entries, metadata, dataStart);
        }
    }

    private static int FirstInvalidUtf8(byte[] bytes)
    {
        Utf8.ToUtf16(bytes, new char[bytes.Length], out int read, out _, replaceInvalidSequences: false);
        return read;
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, Func<string, InvalidDataException> invalid)
    {
        if (value.ValueKind != JsonValueKind.Object) throw invalid("'__metadata__' is not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String) throw invalid($"metadata entry '{item.Name}' is a {item.Value.ValueKind}, not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!)) throw invalid($"metadata entry '{item.Name}' appears twice");
        }
    }

    private static SafeTensorsEntry ReadEntry(string name, JsonElement value, Func<string, InvalidDataException> invalid)
    {
        if (value.ValueKind != JsonValueKind.Object) throw invalid($"tensor '{name}' is described by a JSON {value.ValueKind}, not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw invalid($"tensor '{name}' has no \"dtype\" string");
        string dtype = dtypeElement.GetString()!;
        ElementType type = dtype switch
        {
            "F64" => ElementType.Float64,
            "F32" => ElementType.Float32,
            "F16" => ElementType.Float16,
            "BF16" => ElementType.BFloat16,
            "I64" => ElementType.Int64,
            "I32" => ElementType.Int32,
            "I16" => ElementType.Int16,
            "I8" => ElementType.Int8,
            "U64" => ElementType.UInt64,
            "U32" => ElementType.UInt32,
            "U16" => ElementType.UInt16,
            "U8" => ElementType.UInt8,
            "BOOL" => ElementType.Bool,
            _ => throw invalid($"tensor '{name}' has dtype \"{dtype}\", which is not supported (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)"),
        };

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw invalid($"tensor '{name}' has no \"shape\" array");
        var dims = new List<long>();
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long n) || n < 0)
                throw invalid($"tensor '{name}' has a shape dimension {d.GetRawText()} that is not a non-negative integer");
            dims.Add(n);
        }
        string shapeText = "[" + string.Join(", ", dims) + "]";
        long count = ElementTypes.CheckedElementCount(dims)
            ?? throw invalid($"tensor '{name}' has shape {shapeText}, more elements than a tensor can hold ({Array.MaxLength})");

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetUInt64Strict(out ulong begin) || !offsets[1].TryGetUInt64Strict(out ulong end))
            throw invalid($"tensor '{name}' has no \"data_offsets\" pair of non-negative integers");
        if (end < begin) throw invalid($"tensor '{name}' has data_offsets [{begin}, {end}] that end before they begin");
        if (end > long.MaxValue) throw invalid($"tensor '{name}' has data_offsets [{begin}, {end}] beyond any file");
        long expected = count * type.Size();
        if ((long)(end - begin) != expected)
            throw invalid($"tensor '{name}' of shape {shapeText} and dtype {dtype} needs {expected} bytes but its data_offsets [{begin}, {end}] span {end - begin}");
        return new SafeTensorsEntry(name, type, dims.Select(d => (int)d).ToArray(), count, (long)begin, (long)end);
    }

    /// <summary>The tensors, in offset order, must tile the buffer exactly: each begins where the previous ended and the last ends at the buffer's end.</summary>
    private static void CheckLayout(List<SafeTensorsEntry> entries, long bufferLength, Func<string, InvalidDataException> invalid)
    {
        long position = 0;
        SafeTensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.End > bufferLength)
                throw invalid($"tensor '{entry.Name}' has data_offsets [{entry.Begin}, {entry.End}] beyond the {bufferLength}-byte data buffer");
            if (entry.Begin < position)
                throw invalid($"tensor '{entry.Name}' (bytes {entry.Begin}..{entry.End}) overlaps tensor '{previous!.Name}' (bytes {previous.Begin}..{previous.End})");
            if (entry.Begin > position)
                throw invalid($"there is a gap of {entry.Begin - position} unused bytes before tensor '{entry.Name}' (data_offsets [{entry.Begin}, {entry.End}])");
            position = entry.End;
            previous = entry;
        }
        if (position != bufferLength)
            throw invalid($"the tensors cover {position} bytes but the data buffer has {bufferLength} (extra bytes at the end of the file)");
    }
}

internal static class JsonElementExtensions
{
    /// <summary>A JSON integer as <see cref="ulong"/>, rejecting non-numbers, fractions and negatives.</summary>
    public static bool TryGetUInt64Strict(this JsonElement element, out ulong value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetUInt64(out value);
    }
}
