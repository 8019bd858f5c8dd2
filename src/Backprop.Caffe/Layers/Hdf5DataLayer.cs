using Backprop.Caffe.Hdf5;
using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's HDF5Data layer: hdf5_data_param.source is a text file listing HDF5 files (whitespace-separated paths, each
/// tried in the working directory, then beside the list and its parent folders, then beside the net). Every top names
/// a dataset that each file holds, records along the first dimension; float, double and integer datasets of any rank
/// are read as floats (labels too). Batches of batch_size records go through the files in list order and wrap around;
/// with shuffle, each pass visits the files in a fresh order and each file's records in a fresh order, both drawn from
/// the run's seed and the pass number, so a resumed run repeats an uninterrupted one. One file is in memory at a time.
/// Every file's datasets are checked at setup (present, same record count across tops, same record shape as the first
/// file), so a bad file fails when the net is built, named.
/// </summary>
public sealed class Hdf5DataLayer(LayerParameter definition) : CaffeLayer(definition), IDataSourceLayer
{
    private readonly record struct SourceFile(string Path, int Records);

    private SourceFile[] files = [];
    private int[][] recordDims = [];   // per top: the shape of one record
    private int[] recordSizes = [];
    private string firstFile = "";
    private bool shuffle;
    private ulong seed;
    private long position;
    private long orderPass = -1;
    private int[] fileOrder = [];
    private long[] passStarts = [];   // per position in fileOrder: the first sample of that file within a pass
    private int loadedFile = -1;
    private long loadedVisit = -1;
    private float[][] loaded = [];
    private int[] rowOrder = [];

    public int BatchSize { get; private set; }

    /// <summary>Records in all the listed files together.</summary>
    public int DatasetSize { get; private set; }

    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, int.MaxValue);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.Hdf5DataParam ?? throw Error("hdf5_data_param is missing.");
        if (!p.HasSource) throw Error("hdf5_data_param.source is missing.");
        if (p.BatchSize == 0) throw Error("hdf5_data_param.batch_size must be positive.");
        if (p.BatchSize > int.MaxValue) throw Error($"hdf5_data_param.batch_size {p.BatchSize} is too large.");
        if (Definition.TransformParam is not null) throw Error("HDF5Data does not transform data; remove transform_param (as Caffe requires).");
        BatchSize = (int)p.BatchSize;
        shuffle = p.Shuffle;
        seed = context.Seed;
        string source = PathResolver.Resolve(p.Source, context.BaseDirectory);
        if (!File.Exists(source)) throw Error($"the list of HDF5 files {p.Source} does not exist.");
        var names = File.ReadAllText(source).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw Error($"the list {source} names no HDF5 files.");

        var list = new List<SourceFile>();
        long total = 0, largest = 0;
        Shape[] largestShapes = [];
        foreach (string name in names)
        {
            string path = PathResolver.Resolve(name, source);
            if (!File.Exists(path)) path = PathResolver.Resolve(name, context.BaseDirectory);
            if (!File.Exists(path)) throw Error($"the HDF5 file {name} listed in {source} does not exist.");
            int records = Named(() => Inspect(path));
            list.Add(new SourceFile(path, records));
            total += records;
            if ((long)records * recordSizes.Sum() > largest)
                (largest, largestShapes) = ((long)records * recordSizes.Sum(), recordDims.Select(d => new Shape([records, .. d])).ToArray());
        }
        if (total > int.MaxValue) throw Error($"the files in {source} hold {total} records together, more than Backprop counts ({int.MaxValue}).");
        LayerMemory.EnsureFits(Where, "the largest HDF5 file's datasets", largestShapes, context);
        files = [.. list];
        DatasetSize = (int)total;
        Seek(0);
        return recordDims.Select(d => new Shape([BatchSize, .. d])).ToList();
    }

    /// <summary>Positions the layer at sample <paramref name="sample"/> of its endless sequence.</summary>
    public void Seek(long sample)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sample);
        position = sample;
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var batches = recordSizes.Select(size => new float[(long)BatchSize * size]).ToArray();
        for (int i = 0; i < BatchSize; i++, position++)
        {
            int row = RowAt(position);
            for (int t = 0; t < batches.Length; t++)
                Array.Copy(loaded[t], (long)row * recordSizes[t], batches[t], (long)i * recordSizes[t], recordSizes[t]);
        }
        return batches.Select((values, t) => Tensor.FromArray(values, [BatchSize, .. recordDims[t]])).ToList();
    }

    // Checks one file's datasets against the tops (and the first file); returns its record count.
    private int Inspect(string path)
    {
        using var file = Hdf5Files.OpenRead(path, "an HDF5 data file");
        int records = -1;
        bool first = recordDims.Length == 0;
        if (first) (recordDims, recordSizes) = (new int[Definition.Top.Count][], new int[Definition.Top.Count]);
        for (int t = 0; t < Definition.Top.Count; t++)
        {
            string top = Definition.Top[t];
            int[] dims = Hdf5Files.Dims(Hdf5Files.Dataset(file, top, path, $"the file (for top '{top}')"), path, top);
            if (dims.Length == 0) throw Error($"{path}: dataset '{top}' is a scalar; it needs records along its first dimension.");
            if (records >= 0 && dims[0] != records)
                throw Error($"{path}: dataset '{top}' has {dims[0]} records but '{Definition.Top[0]}' has {records}; every top's dataset must have as many.");
            records = dims[0];
            int[] record = dims[1..];
            if (first)
            {
                long size = record.Aggregate(1L, (a, d) => a * d);
                if (size * BatchSize > Array.MaxLength) throw Error($"{path}: a batch of {BatchSize} records of '{top}' {Hdf5Files.Shape(record)} is more than one array holds.");
                (recordDims[t], recordSizes[t]) = (record, (int)size);
            }
            else if (!record.SequenceEqual(recordDims[t]))
                throw Error($"{path}: dataset '{top}' has records of shape {Hdf5Files.Shape(record)}, but {firstFile} has {Hdf5Files.Shape(recordDims[t])}; all files must agree.");
        }
        if (records == 0) throw Error($"{path}: the datasets hold no records.");
        if (first) firstFile = path;
        return records;
    }

    // The row of the loaded file that holds the sample at endless position index, loading its file if needed.
    private int RowAt(long index)
    {
        long pass = index / DatasetSize;
        long within = index % DatasetSize;
        if (pass != orderPass) NewPass(pass);
        int slot = Array.BinarySearch(passStarts, within);
        if (slot < 0) slot = ~slot - 1;
        int fileIndex = fileOrder[slot];
        long visit = pass * files.Length + slot;
        if (visit != loadedVisit)
        {
            if (fileIndex != loadedFile) Named(() => { Load(fileIndex); return 0; });
            rowOrder = shuffle ? Permutation(files[fileIndex].Records, new Generator(Mix(pass, (ulong)slot + 1))) : [];
            loadedVisit = visit;
        }
        int row = (int)(within - passStarts[slot]);
        return shuffle ? rowOrder[row] : row;
    }

    private void NewPass(long pass)
    {
        fileOrder = shuffle ? Permutation(files.Length, new Generator(Mix(pass, 0))) : Enumerable.Range(0, files.Length).ToArray();
        passStarts = new long[files.Length];
        for (int i = 1; i < files.Length; i++) passStarts[i] = passStarts[i - 1] + files[fileOrder[i - 1]].Records;
        orderPass = pass;
    }

    private void Load(int fileIndex)
    {
        string path = files[fileIndex].Path;
        using var file = Hdf5Files.OpenRead(path, "an HDF5 data file");
        var arrays = new float[Definition.Top.Count][];
        for (int t = 0; t < arrays.Length; t++)
        {
            string top = Definition.Top[t];
            var array = Hdf5Files.ReadFloats(Hdf5Files.Dataset(file, top, path, "the file"), path, top);
            if (array.Dims.Length == 0 || array.Dims[0] != files[fileIndex].Records || !array.Dims[1..].SequenceEqual(recordDims[t]))
                throw Error($"{path}: dataset '{top}' is now {Hdf5Files.Shape(array.Dims)}; the file changed since the net was built.");
            arrays[t] = array.Values;
        }
        (loaded, loadedFile) = (arrays, fileIndex);
    }

    private ulong Mix(long pass, ulong salt) => unchecked(seed * 0xD1B54A32D192ED03UL + (ulong)pass * 0x9E3779B97F4A7C15UL + salt * 0xBF58476D1CE4E5B9UL + 0x4D5F);

    // A Fisher–Yates shuffle of 0..n−1.
    private static int[] Permutation(int n, Generator random)
    {
        var p = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    // Errors from the HDF5 reader name the file; these add the layer.
    private T Named<T>(Func<T> read)
    {
        try { return read(); }
        catch (CaffeNetException e) when (!e.Message.StartsWith(Where, StringComparison.Ordinal)) { throw new CaffeNetException($"{Where}: {e.Message}", e); }
    }
}
