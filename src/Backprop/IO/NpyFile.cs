using System.Buffers.Binary;
using System.Text;

namespace Backprop.IO;

/// <summary>
/// NumPy's .npy format: the magic string <c>\x93NUMPY</c>, a version (1.0, 2.0 or 3.0), the header length
/// (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), a header dictionary literal padded with spaces
/// and a newline so the data starts on a 64-byte boundary, then the elements in C (row-major) order.
/// </summary>
/// <remarks>
/// Reading accepts versions 1.0-3.0 (3.0 has a UTF-8 header) and the dtypes float16/32/64, int8-64,
/// uint8-64 and bool in either byte order, all converted to float32 (values beyond float32's range become
/// infinity; large integers round). Fortran-order arrays are rejected. Writing produces version 1.0
/// (2.0 when the header does not fit 65535 bytes) with dtype <c>&lt;f4</c>, byte for byte as
/// <c>numpy.save</c> writes. Every header field is checked before anything is allocated: a corrupt or
/// hostile file gives an <see cref="InvalidDataException"/> naming the file and the problem.
/// </remarks>
public static class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The largest header accepted on read; NumPy itself refuses headers over 10000 bytes by default.</summary>
    private const int MaxHeaderLength = 1 << 20;

    private const int Alignment = 64;

    /// <summary>Reads the array in the file at <paramref name="path"/>; the file must hold exactly one array.</summary>
    public static Tensor Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(stream, path, exactLength: true);
    }

    /// <summary>
    /// Reads one array from <paramref name="stream"/> at its current position, leaving the stream just after
    /// the array's data (so several arrays written one after another can be read in turn).
    /// </summary>
    public static Tensor Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, stream is FileStream fs ? fs.Name : "the stream", exactLength: false);
    }

    /// <summary>Writes <paramref name="tensor"/> as a float32 .npy file, atomically (see <see cref="AtomicFile"/>).</summary>
    public static void Write(string path, Tensor tensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensor);
        AtomicFile.Write(path, stream => Write(stream, tensor));
    }

    /// <summary>Writes <paramref name="tensor"/> as a float32 .npy array at the stream's current position.</summary>
    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensor);
        stream.Write(EncodeHeader(NpyHeader.Format(tensor.Shape.ToArray())));
        ElementTypes.WriteFloat32LittleEndian(stream, tensor.AsSpan());
    }

    /// <summary>Magic, version, length and the padded header, as NumPy's <c>_wrap_header</c> builds them.</summary>
    internal static byte[] EncodeHeader(string header)
    {
        byte[] text = Encoding.Latin1.GetBytes(header);
        foreach (int major in new[] { 1, 2 })
        {
            int prefix = Magic.Length + 2 + (major == 1 ? 2 : 4);
            int unpadded = text.Length + 1; // the final '\n'
            int padding = Alignment - (prefix + unpadded) % Alignment;
            long length = (long)unpadded + padding;
            if (major == 1 && length > ushort.MaxValue) continue;
            var bytes = new byte[prefix + length];
            Magic.CopyTo(bytes, 0);
            bytes[6] = (byte)major;
            bytes[7] = 0;
            if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)length);
            else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)length);
            text.CopyTo(bytes, prefix);
            bytes.AsSpan(prefix + text.Length, padding).Fill((byte)' ');
            bytes[^1] = (byte)'\n';
            return bytes;
        }
        throw new InvalidOperationException("unreachable: a version 2.0 header always fits");
    }

    private static Tensor Read(Stream stream, string source, bool exactLength)
    {
        long? remaining = stream.CanSeek ? stream.Length - stream.Position : null;
        InvalidDataException Invalid(string what) => new($"'{source}' is not a valid .npy file: {what}.");

        Span<byte> prefix = stackalloc byte[8];
        if (!TryReadExactly(stream, prefix))
            throw Invalid("it is too short to hold the 8-byte magic string and version");
        if (!prefix[..6].SequenceEqual(Magic))
            throw Invalid("it does not start with the magic string \\x93NUMPY (is it a .npy file? .npz archives must be unzipped first)");
        int major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
            throw Invalid($"its format version is {major}.{minor}; this reader supports 1.0, 2.0 and 3.0");

        int lengthSize = major == 1 ? 2 : 4;
        Span<byte> lengthBytes = stackalloc byte[4];
        if (!TryReadExactly(stream, lengthBytes[..lengthSize]))
            throw Invalid("it ends before the header length");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        long consumed = 8 + lengthSize;
        if (remaining is long total && headerLength > total - consumed)
            throw Invalid($"the header length is {headerLength} bytes but only {total - consumed} bytes follow it");
        if (headerLength > MaxHeaderLength)
            throw Invalid($"the header length is {headerLength} bytes, more than the {MaxHeaderLength} allowed");

        var headerBytes = new byte[headerLength];
        if (!TryReadExactly(stream, headerBytes))
            throw Invalid($"it ends inside the {headerLength}-byte header");
        consumed += headerLength;
        string headerText;
        try
        {
            headerText = major == 3
                ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes)
                : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid("the version 3.0 header is not valid UTF-8");
        }

        NpyHeader header;
        try
        {
            header = NpyHeader.Parse(headerText);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"'{source}' is not a valid .npy file: {e.Message}.", e);
        }
        string shapeText = "(" + string.Join(", ", header.Shape) + (header.Shape.Length == 1 ? ",)" : ")");
        if (header.FortranOrder)
            throw new InvalidDataException(
                $"'{source}' holds an array of shape {shapeText} in Fortran (column-major) order, which is not supported; " +
                "save it in C order, e.g. numpy.save(path, numpy.ascontiguousarray(a)).");

        long count = ElementTypes.CheckedElementCount(header.Shape)
            ?? throw Invalid($"the shape {shapeText} has more elements than a tensor can hold ({Array.MaxLength})");
        int itemSize = header.Type.Size();
        long dataLength = count * itemSize;
        if (remaining is long all)
        {
            long left = all - consumed;
            if (dataLength > left || (exactLength && dataLength != left))
                throw Invalid($"the shape {shapeText} of {header.Type.ToString().ToLowerInvariant()} needs {dataLength} data bytes but {left} bytes follow the header" +
                              (dataLength > left ? " (the file is truncated)" : ""));
        }
        else
        {
            // A stream of unknown length: read the bytes first, so that only data that actually arrived is
            // ever allocated for, then decode from memory.
            if (dataLength > Array.MaxLength)
                throw Invalid($"its {dataLength} data bytes are too many to read from a stream that cannot seek; read it from a file");
            var buffered = new MemoryStream();
            CopyAtMost(stream, buffered, dataLength);
            if (buffered.Length != dataLength)
                throw Invalid($"the shape {shapeText} of {header.Type.ToString().ToLowerInvariant()} needs {dataLength} data bytes but the stream ends after {buffered.Length} (truncated)");
            buffered.Position = 0;
            stream = buffered;
        }

        var data = new float[count];
        try
        {
            ElementTypes.ReadInto(stream, header.Type, header.BigEndian, data);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"'{source}' is not a valid .npy file: it ends inside the data (truncated).", e);
        }
        var shape = new Shape(Array.ConvertAll(header.Shape, d => (int)d));
        return new Tensor(data, 0, shape);
    }

    private static bool TryReadExactly(Stream stream, Span<byte> buffer)
    {
        try
        {
            stream.ReadExactly(buffer);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }

    private static void CopyAtMost(Stream source, Stream destination, long count)
    {
        var buffer = new byte[64 * 1024];
        while (count > 0)
        {
            int n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (n == 0) return;
            destination.Write(buffer, 0, n);
            count -= n;
        }
    }
}
