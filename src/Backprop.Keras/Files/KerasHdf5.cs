using PureHDF;
using PureHDF.VOL.Native;

namespace Backprop.Keras.Files;

/// <summary>
/// Defensive HDF5 access for Keras weight files, over PureHDF: every parser failure on a truncated or corrupt
/// file becomes an <see cref="InvalidDataException"/> naming the file, a truncated file is refused before parsing
/// (its superblock's end-of-file address lies past its length), and a dataset is read only after its declared size
/// has been checked against the bytes there are, so no header field sizes an allocation unchecked.
/// </summary>
internal sealed class KerasHdf5 : IDisposable
{
    private static readonly byte[] Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];
    private readonly MemoryStream bytes;

    private KerasHdf5(string where, MemoryStream bytes, NativeFile file)
    {
        Where = where;
        this.bytes = bytes;
        Root = file;
    }

    /// <summary>How errors name the file: the path, or "path (model.weights.h5)" for a zip member.</summary>
    public string Where { get; }

    public NativeFile Root { get; }

    /// <summary>Opens HDF5 bytes (a whole file or a zip member) for reading.</summary>
    public static KerasHdf5 Open(byte[] data, string where)
    {
        CheckSuperblock(data, where);
        var stream = new MemoryStream(data, writable: false);
        var file = Guard(where, () => H5File.Open(stream, leaveOpen: true));
        return new KerasHdf5(where, stream, file);
    }

    public void Dispose()
    {
        Root.Dispose();
        bytes.Dispose();
    }

    private static void CheckSuperblock(byte[] data, string where)
    {
        if (data.Length < 48 || !data.AsSpan(0, 8).SequenceEqual(Signature))
            throw new InvalidDataException($"{where}: not an HDF5 file (no HDF5 signature at its start).");
        int version = data[8];
        int offsets = version < 2 ? data[13] : data[9];
        if (version > 3 || offsets is not (4 or 8))
            throw new InvalidDataException($"{where}: HDF5 superblock version {version} with {offsets}-byte addresses is not one Backprop reads.");
        int baseAt = version switch { 0 => 24, 1 => 28, _ => 12 };
        ulong baseAddress = Address(data, baseAt, offsets), end = Address(data, baseAt + 2 * offsets, offsets);
        ulong undefined = offsets == 8 ? ulong.MaxValue : uint.MaxValue;
        if (end != undefined && baseAddress + end > (ulong)data.Length)
            throw new InvalidDataException($"{where}: the HDF5 data is {data.Length} bytes, but its header says it ends at byte {baseAddress + end}; it is truncated.");
    }

    private static ulong Address(byte[] data, int at, int size)
    {
        ulong value = 0;
        for (int i = size - 1; i >= 0; i--) value = value << 8 | data[at + i];
        return value;
    }

    /// <summary>Runs a PureHDF call, turning what a corrupt file makes it throw into an error naming the file.</summary>
    public static T Guard<T>(string where, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{where}: not a readable HDF5 file, or a truncated or corrupt one ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    /// <summary>The group at a '/'-separated path, or null when any part is missing.</summary>
    public IH5Group? TryGroup(IH5Group from, string path) => Guard(Where, () =>
    {
        IH5Group group = from;
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!group.LinkExists(part)) return null;
            if (group.Get(part) is not IH5Group next) throw new InvalidDataException($"{Where}: '{path}' is a dataset where a group was expected.");
            group = next;
        }
        return group;
    });

    /// <summary>The names of a group's links.</summary>
    public List<string> Names(IH5Group group) => Guard(Where, () => group.Children().Select(c => c.Name).ToList());

    /// <summary>A string attribute (scalar, fixed- or variable-length), or null when absent.</summary>
    public string? StringAttribute(IH5Object owner, string name) => Guard(Where, () =>
        !owner.AttributeExists(name) ? null : CheckedString(owner.Attribute(name), name) ? owner.Attribute(name).Read<string>() : null);

    /// <summary>
    /// A string-array attribute (Keras's <c>layer_names</c>/<c>weight_names</c>), also when Keras split a long one
    /// into <c>name0</c>, <c>name1</c>, ...; null when absent.
    /// </summary>
    public List<string>? StringListAttribute(IH5Object owner, string name) => Guard(Where, () =>
    {
        if (owner.AttributeExists(name)) return ReadList(owner.Attribute(name), name);
        if (!owner.AttributeExists(name + "0")) return null;
        var all = new List<string>();
        for (int i = 0; owner.AttributeExists(name + i); i++) all.AddRange(ReadList(owner.Attribute(name + i), name + i));
        return all;
    });

    private List<string> ReadList(IH5Attribute attribute, string name)
    {
        CheckedString(attribute, name);
        if (attribute.Space.Type == H5DataspaceType.Null) return [];
        if (attribute.Space.Type == H5DataspaceType.Scalar) return [attribute.Read<string>()];
        double count = attribute.Space.Dimensions.Aggregate(1.0, (a, d) => a * d);
        if (count > bytes.Length) throw new InvalidDataException($"{Where}: attribute '{name}' declares {count:G} strings, more than the file holds.");
        return [.. attribute.Read<string[]>()];
    }

    private bool CheckedString(IH5Attribute attribute, string name)
    {
        var type = attribute.Type;
        if (type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
            throw new InvalidDataException($"{Where}: attribute '{name}' holds {type.Class} values, not text.");
        if (type.Class == H5DataTypeClass.String && type.Size > bytes.Length)
            throw new InvalidDataException($"{Where}: attribute '{name}' declares {type.Size}-byte strings, longer than the file.");
        return true;
    }

    /// <summary>The dataset at <paramref name="name"/> (a '/'-separated path under <paramref name="group"/>), read as a tensor of its shape.</summary>
    public Tensor ReadTensor(IH5Group group, string name, string what)
    {
        int slash = name.LastIndexOf('/');
        var parent = slash < 0 ? group : TryGroup(group, name[..slash]);
        string leaf = name[(slash + 1)..];
        if (parent is null || !Guard(Where, () => parent.LinkExists(leaf)))
            throw new InvalidDataException($"{Where}: {what}: the weight '{name}' is missing.");
        var dataset = Guard(Where, () => parent.Get(leaf) as IH5Dataset)
            ?? throw new InvalidDataException($"{Where}: {what}: '{name}' is a group, not a weight dataset.");
        return Guard(Where, () =>
        {
            var type = dataset.Type;
            if (type.Class != H5DataTypeClass.FloatingPoint || type.Size is not (4 or 8))
                throw new InvalidDataException($"{Where}: {what}: weight '{name}' holds {type.Size}-byte {type.Class} values; Backprop reads float32 and float64 weights.");
            ulong[] declared = dataset.Space.Type == H5DataspaceType.Simple ? dataset.Space.Dimensions : [];
            double count = declared.Aggregate(1.0, (a, d) => a * d);
            double limit = dataset.Layout.Class == H5DataLayoutClass.Chunked ? bytes.Length * 1100.0 : bytes.Length;   // deflate packs at most ~1032:1
            if (declared.Any(d => d > int.MaxValue) || count * type.Size > limit)
                throw new InvalidDataException($"{Where}: {what}: weight '{name}' declares shape ({string.Join(", ", declared)}), more than the file can hold; it is corrupt.");
            float[] values = type.Size == 4 ? dataset.Read<float[]>() : [.. dataset.Read<double[]>().Select(v => (float)v)];
            if (values.Length != (long)count) throw new InvalidDataException($"{Where}: {what}: weight '{name}' declares {count} values but {values.Length} were read.");
            return Tensor.FromArray(values, [.. declared.Select(d => (int)d)]);
        });
    }

    /// <summary>A float32 dataset holding <paramref name="tensor"/> in its shape.</summary>
    public static H5Dataset Dataset(Tensor tensor) => new(tensor.ToArray(), fileDims: [.. tensor.Shape.ToArray().Select(d => (ulong)d)]);

    /// <summary>Encodes <paramref name="file"/> to bytes (PureHDF needs a readable, seekable stream to write to).</summary>
    public static byte[] Encode(H5File file)
    {
        using var buffer = new MemoryStream();
        file.Write(buffer);
        return buffer.ToArray();
    }
}
