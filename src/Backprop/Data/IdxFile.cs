using System.Buffers.Binary;
using System.IO.Compression;

namespace Backprop.Data;

/// <summary>
/// IDX files, the format of MNIST and Fashion-MNIST: a magic number <c>00 00 type ndim</c>, then
/// <c>ndim</c> big-endian int32 dimensions, then the elements in row-major order, multi-byte types
/// big-endian. The type byte is 0x08 (unsigned byte), 0x09 (signed byte), 0x0B (int16), 0x0C (int32),
/// 0x0D (float32) or 0x0E (float64). Files may be gzip-compressed; compression is recognised by the gzip
/// magic bytes <c>1f 8b</c>, not by the file name.
/// </summary>
/// <remarks>
/// Files are read defensively: the header is checked (zero magic bytes, a known type, 1 to 4 dimensions, each
/// positive, at most <see cref="MaxDataLength"/> bytes of data, exactly as many data bytes as the
/// dimensions need) before anything is allocated for the data. A gzip file's decompressed size is unknown
/// until it has been inflated, so its data is read in chunks that grow only as bytes arrive (a 30-byte file
/// claiming a gigabyte costs kilobytes), inflating stops one byte past the declared size, and the file is
/// rejected when its data is shorter or longer than declared. Every problem is an
/// <see cref="InvalidDataException"/> naming the file and what is wrong.
/// </remarks>
public static class IdxFile
{
    /// <summary>The most data bytes a file may declare: 1 GiB (MNIST's training images are 47 MB).</summary>
    public const long MaxDataLength = 1L << 30;

    /// <summary>The most dimensions accepted.</summary>
    public const int MaxRank = 4;

    /// <summary>Reads the whole file at <paramref name="path"/>, plain or gzip-compressed.</summary>
    public static IdxData Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenFile(path);
        bool gzip = IsGzip(file);
        if (!gzip) return ReadData(file, path, file.Length, gzipTrailer: null);
        uint trailer = ReadGzipTrailer(file);
        using var decompressed = new GZipStream(file, CompressionMode.Decompress);
        return ReadData(decompressed, path, plainLength: null, trailer);
    }

    /// <summary>
    /// Reads and checks only the header of the file at <paramref name="path"/>. For a plain file this also checks
    /// that the file holds exactly the declared data; a gzip file's data length is checked only by <see cref="Read"/>.
    /// </summary>
    public static IdxHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenFile(path);
        if (!IsGzip(file))
        {
            var header = ReadHeader(file, path);
            CheckPlainLength(header, file.Length, path);
            return header;
        }
        uint trailer = ReadGzipTrailer(file);
        using var decompressed = new GZipStream(file, CompressionMode.Decompress);
        var gzipHeader = ReadHeader(decompressed, path);
        CheckGzipTrailer(gzipHeader, trailer, path);
        return gzipHeader;
    }

    /// <summary>Whether the file at <paramref name="path"/> starts with the gzip magic bytes <c>1f 8b</c>.</summary>
    public static bool IsGzipFile(string path)
    {
        using var file = OpenFile(path);
        return IsGzip(file);
    }

    private static FileStream OpenFile(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The IDX file '{path}' does not exist.", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
    }

    /// <summary>Peeks at the first two bytes and rewinds.</summary>
    private static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    private static InvalidDataException Invalid(string source, string what, Exception? inner = null) =>
        new($"'{source}' is not a valid IDX file: {what}.", inner);

    /// <summary>
    /// The gzip trailer's ISIZE: the last 4 bytes, little-endian, the inflated length mod 2^32 (of the last member).
    /// Rewinds the file. A file too short for a trailer gives 0; the inflater then reports it as truncated.
    /// </summary>
    private static uint ReadGzipTrailer(FileStream file)
    {
        if (file.Length < 18) return 0; // 10-byte header + 8-byte trailer
        Span<byte> isize = stackalloc byte[4];
        file.Position = file.Length - 4;
        file.ReadExactly(isize);
        file.Position = 0;
        return BinaryPrimitives.ReadUInt32LittleEndian(isize);
    }

    /// <summary>
    /// A cheap plausibility check before inflating: a gzip bomb (or a truncated file) whose IDX header declares
    /// more than the stream holds is refused without inflating or allocating anything.
    /// </summary>
    private static void CheckGzipTrailer(IdxHeader header, uint trailer, string source)
    {
        long inflated = trailer; // mod 2^32, but every length accepted here is below 2^31
        long follow = inflated - header.Length;
        const string Why = " according to its gzip trailer (the file is truncated or corrupt, or it holds several gzip members: then decompress it with gunzip and read the plain file)";
        if (follow < header.DataLength)
            throw Invalid(source, $"the shape {header.ShapeText} of {header.Type} needs {header.DataLength} data bytes but only {Math.Max(follow, 0)} follow the header" + Why);
        if (follow > header.DataLength)
            throw Invalid(source, $"the decompressed data is longer than the {header.DataLength} bytes that the shape {header.ShapeText} of {header.Type} needs: {follow} follow the header" + Why);
    }

    /// <summary>
    /// Reads the header and the data; <paramref name="plainLength"/> is the total length when known (an uncompressed
    /// file), <paramref name="gzipTrailer"/> the gzip trailer's ISIZE when the stream is inflated gzip.
    /// </summary>
    private static IdxData ReadData(Stream stream, string source, long? plainLength, uint? gzipTrailer)
    {
        var header = ReadHeader(stream, source);
        if (plainLength is long total) CheckPlainLength(header, total, source);
        if (gzipTrailer is uint trailer) CheckGzipTrailer(header, trailer, source);

        byte[] raw;
        try
        {
            // A plain file's length was checked above, so its declared size can be allocated at once; a gzip
            // stream's cannot be known until it has been inflated, so it is read in growing chunks first.
            raw = plainLength is null ? ReadGrowing(stream, header, source) : ReadExactly(stream, header, source);
            if (stream.ReadByte() >= 0)
                throw Invalid(source, $"the decompressed data is longer than the {header.DataLength} bytes that the shape {header.ShapeText} of {header.Type} needs (trailing bytes)");
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith($"'{source}'", StringComparison.Ordinal))
        {
            throw Invalid(source, $"the gzip data is corrupt ({e.Message})", e);
        }
        return new IdxData(header.Type, header.Shape, raw);
    }

    private static byte[] ReadExactly(Stream stream, IdxHeader header, string source)
    {
        var raw = new byte[header.DataLength];
        int read = stream.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
        if (read != raw.Length) throw Truncated(header, read, source);
        return raw;
    }

    /// <summary>The first chunk read from a gzip stream; later chunks double, up to <see cref="MaxChunk"/>.</summary>
    private const int FirstChunk = 1 << 16;

    private const int MaxChunk = 1 << 24;

    /// <summary>
    /// Reads the declared data from a stream whose length is unknown (inflated gzip), allocating only for
    /// bytes that have arrived: chunks of doubling size, then one array of the declared size once all of it
    /// is there. A gzip bomb whose header claims a gigabyte but whose stream ends early costs the bytes it
    /// really holds, and a stream that inflates past the declared size is cut off there (the caller refuses it).
    /// </summary>
    private static byte[] ReadGrowing(Stream stream, IdxHeader header, string source)
    {
        long declared = header.DataLength;
        var chunks = new List<byte[]>();
        long filled = 0;
        while (filled < declared)
        {
            int size = (int)Math.Min(declared - filled, Math.Min(MaxChunk, FirstChunk << Math.Min(chunks.Count, 8)));
            var chunk = new byte[size];
            int read = stream.ReadAtLeast(chunk, size, throwOnEndOfStream: false);
            chunks.Add(chunk);
            filled += read;
            if (read < size) throw Truncated(header, filled, source);
        }
        if (chunks.Count == 1) return chunks[0];
        var raw = new byte[declared];
        long offset = 0;
        foreach (var chunk in chunks)
        {
            chunk.CopyTo(raw, offset);
            offset += chunk.Length;
        }
        return raw;
    }

    private static InvalidDataException Truncated(IdxHeader header, long read, string source) =>
        Invalid(source, $"the shape {header.ShapeText} of {header.Type} needs {header.DataLength} data bytes but only {read} follow the header (the file is truncated)");

    private static void CheckPlainLength(IdxHeader header, long fileLength, string source)
    {
        long left = fileLength - header.Length;
        if (left < header.DataLength)
            throw Invalid(source, $"the shape {header.ShapeText} of {header.Type} needs {header.DataLength} data bytes but only {left} follow the header (the file is truncated)");
        if (left > header.DataLength)
            throw Invalid(source, $"the shape {header.ShapeText} of {header.Type} needs {header.DataLength} data bytes but {left} follow the header ({left - header.DataLength} trailing bytes)");
    }

    private static IdxHeader ReadHeader(Stream stream, string source)
    {
        Span<byte> magic = stackalloc byte[4];
        ReadHeaderBytes(stream, magic, source, "the 4-byte magic number");
        if (magic[0] != 0 || magic[1] != 0)
            throw Invalid(source, $"the magic number starts with {magic[0]:x2} {magic[1]:x2} instead of 00 00 (is it an IDX file?)");
        if (!IdxElementTypes.IsKnown(magic[2]))
            throw Invalid(source, $"the element type byte is 0x{magic[2]:x2}; known types are 0x08 (ubyte), 0x09 (sbyte), 0x0B (int16), 0x0C (int32), 0x0D (float32), 0x0E (float64)");
        var type = (IdxElementType)magic[2];
        int rank = magic[3];
        if (rank is < 1 or > MaxRank)
            throw Invalid(source, $"it declares {rank} dimensions; 1 to {MaxRank} are supported");

        Span<byte> dimBytes = stackalloc byte[4 * MaxRank];
        ReadHeaderBytes(stream, dimBytes[..(4 * rank)], source, $"the {rank} dimensions");
        var shape = new int[rank];
        long dataLength = type.Size();
        for (int i = 0; i < rank; i++)
        {
            int d = BinaryPrimitives.ReadInt32BigEndian(dimBytes[(4 * i)..]);
            if (d <= 0)
                throw Invalid(source, $"dimension {i} is {d}; dimensions must be positive");
            shape[i] = d;
            dataLength *= d; // no overflow: the running product stays at most MaxDataLength * int.MaxValue < long.MaxValue
            if (dataLength > MaxDataLength)
                throw Invalid(source, $"the dimensions ({string.Join(", ", shape[..(i + 1)])}{(i + 1 < rank ? ", ..." : "")}) of {type} need more than the {MaxDataLength} bytes allowed");
        }
        return new IdxHeader(type, shape);
    }

    private static void ReadHeaderBytes(Stream stream, Span<byte> buffer, string source, string what)
    {
        int n;
        try
        {
            n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw Invalid(source, $"the gzip data is corrupt ({e.Message})", e);
        }
        if (n < buffer.Length)
            throw Invalid(source, $"it ends after {n} of the bytes of {what} (the file is truncated)");
    }
}
