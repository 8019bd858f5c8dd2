using System.Globalization;
using Backprop.Caffe.Proto;
using PureHDF;

namespace Backprop.Caffe.Hdf5;

/// <summary>
/// Caffe's HDF5 snapshots (snapshot_format: HDF5). A <c>.caffemodel.h5</c> holds a group <c>data</c> with one group
/// per layer of the net and, in it, the layer's blobs as float datasets <c>0</c>, <c>1</c>, ... (and, with
/// snapshot_diff, the gradients likewise under <c>diff</c>). A <c>.solverstate.h5</c> holds the int datasets
/// <c>iter</c> and <c>current_step</c>, the string <c>learned_net</c>, and the optimizer history as datasets
/// <c>0</c>, <c>1</c>, ... of the group <c>history</c>. Reading converts both into the messages the binary files
/// hold, so loading goes through the same checks (<see cref="TrainedWeights"/>, <see cref="Snapshots.RestoreHistory"/>).
/// </summary>
public static class Hdf5Snapshots
{
    /// <summary>Caffe's rule: a weights or state file whose name ends in <c>.h5</c> is HDF5, anything else a binary proto.</summary>
    public static bool IsHdf5(string path) => path.EndsWith(".h5", StringComparison.Ordinal);

    /// <summary>Writes the net's weights (and with <paramref name="writeDiff"/> their gradients) as Caffe's Net::ToHDF5 lays them out.</summary>
    public static void WriteModel(Stream stream, CaffeNet net, bool writeDiff)
    {
        ArgumentNullException.ThrowIfNull(net);
        var data = new H5Group();
        var diff = new H5Group();
        foreach (var layer in net.Layers)
        {
            if (data.ContainsKey(layer.Name)) continue;   // one group per name, as HDF5 allows
            var (layerData, layerDiff) = (new H5Group(), new H5Group());
            for (int i = 0; i < layer.Blobs.Count; i++)
            {
                var p = layer.Blobs[i];
                int[] dims = p.Shape.ToArray();
                layerData[Name(i)] = Hdf5Files.FloatDataset(p.ToArray(), dims);
                layerDiff[Name(i)] = Hdf5Files.FloatDataset(p.Grad?.ToArray() ?? new float[p.Shape.Length], dims);
            }
            data[layer.Name] = layerData;
            diff[layer.Name] = layerDiff;
        }
        var file = new H5File { ["data"] = data };
        if (writeDiff) file["diff"] = diff;
        Hdf5Files.Write(file, stream, longestString: 0);
    }

    /// <summary>Reads a <c>.caffemodel.h5</c> as the NetParameter (layer names and blobs) a binary .caffemodel would give.</summary>
    public static NetParameter ReadModel(string path)
    {
        CheckLength(path, "model weights (.caffemodel.h5)");
        using var file = Hdf5Files.OpenRead(path, "model weights (.caffemodel.h5)");
        var data = Hdf5Files.Group(file, "data", path);
        var model = new NetParameter();
        foreach (string layerName in Hdf5Files.Names(data, path))
        {
            var group = Hdf5Files.Group(data, layerName, path);
            var layer = new LayerParameter { Name = layerName };
            layer.Blobs.AddRange(ReadNumbered(group, path, $"layer '{layerName}'"));
            model.Layer.Add(layer);
        }
        if (model.Layer.Count == 0) throw new CaffeNetException($"{path}: the group 'data' holds no layers.");
        return model;
    }

    /// <summary>Writes <paramref name="state"/> (made by <see cref="Snapshots.StateOf"/>) as Caffe's SnapshotSolverStateToHDF5 does.</summary>
    public static void WriteState(Stream stream, SolverState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var history = new H5Group();
        for (int i = 0; i < state.History.Count; i++)
        {
            var blob = state.History[i];
            history[Name(i)] = Hdf5Files.FloatDataset([.. blob.Data], blob.Shape.Dim.Select(d => (int)d).ToArray());
        }
        var file = new H5File
        {
            ["iter"] = new[] { state.Iter },
            ["learned_net"] = state.LearnedNet,
            ["current_step"] = new[] { state.CurrentStep },
            ["history"] = history,
        };
        Hdf5Files.Write(file, stream, longestString: state.LearnedNet.Length);
    }

    /// <summary>Reads a <c>.solverstate.h5</c> as the SolverState message a binary .solverstate would give.</summary>
    public static SolverState ReadState(string path)
    {
        CheckLength(path, "solver state (.solverstate.h5)");
        using var file = Hdf5Files.OpenRead(path, "solver state (.solverstate.h5)");
        var state = new SolverState { Iter = Hdf5Files.ReadInt(file, "iter", path) };
        if (Hdf5Files.Has(file, "learned_net", path)) state.LearnedNet = Hdf5Files.ReadString(file, "learned_net", path);
        state.CurrentStep = Hdf5Files.ReadInt(file, "current_step", path);
        state.History.AddRange(ReadNumbered(Hdf5Files.Group(file, "history", path), path, "the group 'history'"));
        return state;
    }

    // Datasets "0", "1", ... of a group, as blobs; every link must be one of them.
    private static List<BlobProto> ReadNumbered(IH5Group group, string path, string where)
    {
        var names = Hdf5Files.Names(group, path);
        var blobs = new List<BlobProto>(names.Count);
        for (int i = 0; i < names.Count; i++)
        {
            if (!names.Contains(Name(i)))
                throw new CaffeNetException($"{path}: {where} holds {names.Count} entries ({string.Join(", ", names.Take(10))}), but not dataset '{i}'; Caffe names blobs 0, 1, 2, ...");
            var array = Hdf5Files.ReadFloats(Hdf5Files.Dataset(group, Name(i), path, where), path, $"{where}/{i}");
            var blob = new BlobProto { Shape = new BlobShape() };
            foreach (int d in array.Dims) blob.Shape.Dim.Add(d);
            blob.Data.AddRange(array.Values);
            blobs.Add(blob);
        }
        return blobs;
    }

    private static void CheckLength(string path, string what)
    {
        if (!File.Exists(path)) throw new CaffeNetException($"{path}: no such file (expected {what}).");
        long length = new FileInfo(path).Length;
        if (length > Snapshots.MaxFileBytes) throw new CaffeNetException($"{path}: {length} bytes is larger than the {Snapshots.MaxFileBytes}-byte limit for {what}.");
    }

    private static string Name(int i) => i.ToString(CultureInfo.InvariantCulture);
}
