using PureHDF;
using PureHDF.VOL.Native;

namespace Backprop.Caffe.Hdf5;

/// <summary>A numeric HDF5 dataset read as floats, with its dimensions (records first).</summary>
internal sealed record Hdf5Array(int[] Dims, float[] Values);

/// <summary>
/// The HDF5 reading and writing Caffe's HDF5 files need, over PureHDF, made defensive: every failure of the parser on
/// a truncated or corrupt file becomes a <see cref="CaffeNetException"/> naming the file, and a dataset is read only
/// after its declared size has been checked against the file's length, so a hostile header cannot size an allocation.
/// </summary>
internal static class Hdf5Files
{
    // Stored uncompressed, a dataset's bytes lie inside the file; gzip (deflate) packs at most about 1032:1.
    private const long MaxCompressionRatio = 1100;

    /// <summary>Opens <paramref name="path"/> for reading, checking first that it exists.</summary>
    public static NativeFile OpenRead(string path, string what)
    {
        if (!File.Exists(path)) throw new CaffeNetException($"{path}: no such file (expected {what}).");
        CheckEndOfFile(path, what);
        return Guard(path, () => H5File.OpenRead(path));
    }

    private static readonly byte[] Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// As the HDF5 library does: finds the superblock (at 0, 512, 1024, ... after a user block) and refuses a file
    /// shorter than the end-of-file address it records, which is how a truncated file shows (PureHDF reads on regardless).
    /// </summary>
    private static void CheckEndOfFile(string path, string what)
    {
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        Span<byte> header = stackalloc byte[48];
        for (long at = 0; at + header.Length <= length; at = at == 0 ? 512 : at * 2)
        {
            stream.Position = at;
            stream.ReadExactly(header);
            if (!header[..8].SequenceEqual(Signature)) continue;
            int version = header[8];
            int offsets = version < 2 ? header[13] : header[9];
            if (version > 3 || offsets is not (2 or 4 or 8))
                throw new CaffeNetException($"{path}: HDF5 superblock version {version} with {offsets}-byte addresses is not one Backprop reads.");
            int baseAt = version switch { 0 => 24, 1 => 28, _ => 12 };
            ulong baseAddress = Address(header, baseAt, offsets);
            ulong end = Address(header, baseAt + 2 * offsets, offsets);
            if (baseAddress + end > (ulong)length && end != Undefined(offsets))
                throw new CaffeNetException($"{path}: the file is {length} bytes, but its HDF5 header says it ends at byte {baseAddress + end}; it is truncated.");
            return;
        }
        throw new CaffeNetException($"{path}: not an HDF5 file (no HDF5 signature found; expected {what}).");
    }

    private static ulong Address(ReadOnlySpan<byte> bytes, int at, int size)
    {
        ulong value = 0;
        for (int i = size - 1; i >= 0; i--) value = value << 8 | bytes[at + i];
        return value;
    }

    private static ulong Undefined(int size) => size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;

    /// <summary>Runs a PureHDF call, turning whatever a corrupt file makes it throw into an error naming the file.</summary>
    public static T Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not CaffeNetException and not OutOfMemoryException)
        {
            throw new CaffeNetException($"{path}: not a readable HDF5 file, or a truncated or corrupt one ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    /// <summary>Whether <paramref name="group"/> has a link <paramref name="name"/>.</summary>
    public static bool Has(IH5Group group, string name, string path) => Guard(path, () => group.LinkExists(name));

    /// <summary>The dataset <paramref name="name"/> of <paramref name="group"/>, or an error naming the file and <paramref name="where"/>.</summary>
    public static IH5Dataset Dataset(IH5Group group, string name, string path, string where) => Guard(path, () =>
        !group.LinkExists(name) ? throw new CaffeNetException($"{path}: {where} has no dataset '{name}'.")
        : group.Get(name) as IH5Dataset ?? throw new CaffeNetException($"{path}: {where}: '{name}' is a group, not a dataset."));

    /// <summary>The group <paramref name="name"/> of <paramref name="group"/>, or an error naming the file.</summary>
    public static IH5Group Group(IH5Group group, string name, string path) => Guard(path, () =>
        !group.LinkExists(name) ? throw new CaffeNetException($"{path}: the file has no group '{name}'.")
        : group.Get(name) as IH5Group ?? throw new CaffeNetException($"{path}: '{name}' is a dataset, not a group."));

    /// <summary>The names of the links in <paramref name="group"/>.</summary>
    public static List<string> Names(IH5Group group, string path) => Guard(path, () => group.Children().Select(c => c.Name).ToList());

    /// <summary>
    /// A dataset's dimensions (a scalar has none), checked: a simple or scalar dataspace of float or integer values,
    /// each dimension at most int.MaxValue, and no more values than an array holds or the file's length allows.
    /// </summary>
    public static int[] Dims(IH5Dataset dataset, string path, string name) => Guard(path, () =>
    {
        var type = dataset.Type;
        if (type.Class is not (H5DataTypeClass.FloatingPoint or H5DataTypeClass.FixedPoint))
            throw new CaffeNetException($"{path}: dataset '{name}' holds {type.Class} values; Caffe reads only float and integer datasets.");
        if (dataset.Space.Type == H5DataspaceType.Null) throw new CaffeNetException($"{path}: dataset '{name}' has no dataspace (it holds nothing).");
        ulong[] declared = dataset.Space.Dimensions;
        var dims = new int[declared.Length];
        double count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (declared[i] > int.MaxValue)
                throw new CaffeNetException($"{path}: dataset '{name}' declares dimension {i} as {declared[i]}, more than Caffe's blobs allow ({int.MaxValue}).");
            dims[i] = (int)declared[i];
            count *= declared[i];
        }
        if (count > Array.MaxLength)
            throw new CaffeNetException($"{path}: dataset '{name}' declares {Shape(dims)}, {count:G} values, more than one array holds.");
        long fileBytes = new FileInfo(path).Length;
        bool packed = dataset.Layout.Class == H5DataLayoutClass.Chunked;
        double bytes = count * type.Size, limit = packed ? (double)fileBytes * MaxCompressionRatio : fileBytes;
        if (bytes > limit)
            throw new CaffeNetException($"{path}: dataset '{name}' declares {Shape(dims)} ({bytes:G} bytes), more than a {fileBytes}-byte file can hold; the file is truncated or corrupt.");
        return dims;
    });

    /// <summary>Reads a float, double or integer dataset as floats, after <see cref="Dims"/> has checked its size.</summary>
    public static Hdf5Array ReadFloats(IH5Dataset dataset, string path, string name)
    {
        int[] dims = Dims(dataset, path, name);
        var type = dataset.Type;
        float[] values = Guard(path, () => (type.Class, type.Size, type.Class == H5DataTypeClass.FixedPoint && type.FixedPoint.IsSigned) switch
        {
            (H5DataTypeClass.FloatingPoint, 4, _) => dataset.Read<float[]>(),
            (H5DataTypeClass.FloatingPoint, 8, _) => Convert(dataset.Read<double[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 1, true) => Convert(dataset.Read<sbyte[]>(), v => v),
            (H5DataTypeClass.FixedPoint, 1, false) => Convert(dataset.Read<byte[]>(), v => v),
            (H5DataTypeClass.FixedPoint, 2, true) => Convert(dataset.Read<short[]>(), v => v),
            (H5DataTypeClass.FixedPoint, 2, false) => Convert(dataset.Read<ushort[]>(), v => v),
            (H5DataTypeClass.FixedPoint, 4, true) => Convert(dataset.Read<int[]>(), v => v),
            (H5DataTypeClass.FixedPoint, 4, false) => Convert(dataset.Read<uint[]>(), v => v),
            (H5DataTypeClass.FixedPoint, 8, true) => Convert(dataset.Read<long[]>(), v => v),
            (H5DataTypeClass.FixedPoint, 8, false) => Convert(dataset.Read<ulong[]>(), v => v),
            _ => throw new CaffeNetException($"{path}: dataset '{name}' holds {type.Size}-byte {type.Class} values, which Backprop does not read (float, double and 8- to 64-bit integers are read)."),
        });
        long expected = dims.Aggregate(1L, (a, d) => a * d);
        if (values.Length != expected)
            throw new CaffeNetException($"{path}: dataset '{name}' declares {Shape(dims)} but {values.Length} values were read.");
        return new Hdf5Array(dims, values);
    }

    /// <summary>Reads an integer stored as Caffe's hdf5_save_int does (one value, of any numeric type).</summary>
    public static int ReadInt(IH5Group group, string name, string path)
    {
        var array = ReadFloats(Dataset(group, name, path, "the file"), path, name);
        if (array.Values.Length != 1) throw new CaffeNetException($"{path}: dataset '{name}' should hold one integer, but holds {array.Values.Length} values.");
        float v = array.Values[0];
        if (v != MathF.Round(v) || v < int.MinValue || v > int.MaxValue) throw new CaffeNetException($"{path}: dataset '{name}' is {v}, not an integer.");
        return (int)v;
    }

    /// <summary>Reads a string dataset (Caffe's hdf5_save_string: a scalar fixed-length string; variable-length is read too).</summary>
    public static string ReadString(IH5Group group, string name, string path)
    {
        var dataset = Dataset(group, name, path, "the file");
        return Guard(path, () =>
        {
            var type = dataset.Type;
            if (type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
                throw new CaffeNetException($"{path}: dataset '{name}' holds {type.Class} values, not a string.");
            if (type.Class == H5DataTypeClass.String && type.Size > new FileInfo(path).Length)
                throw new CaffeNetException($"{path}: dataset '{name}' declares a {type.Size}-byte string, longer than the file.");
            return dataset.Read<string>() ?? "";
        });
    }

    /// <summary>A float dataset of the given dimensions, as Caffe's hdf5_save_nd_dataset writes one.</summary>
    public static H5Dataset FloatDataset(float[] values, IReadOnlyList<int> dims) =>
        new(values, fileDims: dims.Select(d => (ulong)d).ToArray());

    /// <summary>Encodes <paramref name="file"/> (strings fixed-length, as Caffe's H5LT calls write them) and writes the bytes to <paramref name="stream"/>.</summary>
    public static void Write(H5File file, Stream stream, int longestString)
    {
        // PureHDF needs a readable, seekable stream; the temporary snapshot file is write-only, so encode in memory first.
        using var buffer = new MemoryStream();
        file.Write(buffer, new H5WriteOptions(DefaultStringLength: longestString + 1));
        buffer.Position = 0;
        buffer.CopyTo(stream);
    }

    public static string Shape(IEnumerable<int> dims) => "(" + string.Join(", ", dims) + ")";

    private static float[] Convert<T>(T[] source, Func<T, float> convert)
    {
        var result = new float[source.Length];
        for (int i = 0; i < source.Length; i++) result[i] = convert(source[i]);
        return result;
    }
}
