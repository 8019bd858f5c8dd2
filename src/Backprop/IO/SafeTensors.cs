using System.Buffers.Binary;
using System.Text.Json;

namespace Backprop.IO;

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// <c>{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}</c>,
/// then the byte buffer the offsets point into (relative to its start), tensors packed with no gaps.
/// </summary>
/// <remarks>
/// Reading accepts F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8 and BOOL, all converted to
/// float32, and checks the whole header before reading data: the header length against the file and a
/// 100 MB limit, every shape and byte count, and that the tensors cover the buffer exactly, without overlap
/// or gaps. Any problem is an <see cref="InvalidDataException"/> naming the file and the tensor.
/// Writing produces F32 tensors in ordinal name order, the header padded with spaces to a multiple of 8
/// bytes, written atomically (see <see cref="AtomicFile"/>).
/// </remarks>
public static class SafeTensors
{
    /// <summary>The largest header accepted, as in the reference implementation.</summary>
    public const int MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>Reads all tensors in the file, by name.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var header = SafeTensorsHeader.Read(stream, path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var entry in header.Entries.OrderBy(e => e.Begin))
        {
            var data = new float[entry.Count];
            stream.Position = header.DataStart + entry.Begin;
            try
            {
                ElementTypes.ReadInto(stream, entry.Type, bigEndian: false, data);
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException($"'{path}' is not a valid safetensors file: it ends inside tensor '{entry.Name}'.", e);
            }
            result.Add(entry.Name, new Tensor(data, 0, new Shape(entry.Shape)));
        }
        return result;
    }

    /// <summary>The file's <c>__metadata__</c> strings (empty when it has none), reading only the header.</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return SafeTensorsHeader.Read(stream, path).Metadata;
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> as F32, in ordinal order of their names, with optional string
    /// <paramref name="metadata"/>. The file appears complete or not at all.
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        foreach (var name in names)
        {
            if (name == MetadataKey) throw new ArgumentException($"'{MetadataKey}' is reserved for metadata and cannot name a tensor.", nameof(tensors));
            if (tensors[name] is null) throw new ArgumentException($"Tensor '{name}' is null.", nameof(tensors));
        }
        if (metadata is not null)
            foreach (var (key, value) in metadata)
                if (key is null || value is null) throw new ArgumentException($"Metadata entry '{key}' has a null value.", nameof(metadata));

        byte[] header = EncodeHeader(names, tensors, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var name in names) ElementTypes.WriteFloat32LittleEndian(stream, tensors[name].AsSpan());
        });
    }

    /// <summary>The JSON header, metadata first, padded with spaces to a multiple of 8 bytes.</summary>
    private static byte[] EncodeHeader(string[] names, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var name in names)
            {
                var tensor = tensors[name];
                long end = offset + (long)tensor.Length * 4;
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in tensor.Shape.ToArray()) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }
            json.WriteEndObject();
        }
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        while (buffer.Length < padded) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
