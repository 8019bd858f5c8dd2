using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>All Datum records of a database in memory: raw bytes (or floats) and labels, one shape for all.</summary>
internal sealed class DatumRecords
{
    private byte[] bytes = [];
    private float[]? floats;
    private float[] labels = [];

    public int Count { get; private set; }
    public int Channels { get; private set; }
    public int Height { get; private set; }
    public int Width { get; private set; }

    private int Size => Channels * Height * Width;

    /// <summary>Copies record <paramref name="index"/>'s values into <paramref name="destination"/> (C·H·W) and returns its label.</summary>
    public float Read(int index, Span<float> destination)
    {
        if (floats is not null) floats.AsSpan(index * Size, Size).CopyTo(destination);
        else
        {
            System.Numerics.Tensors.TensorPrimitives.ConvertTruncating<byte, float>(bytes.AsSpan(index * Size, Size), destination);   // exact: bytes fit a float
        }
        return labels[index];
    }

    /// <param name="color">For encoded records: force 3 channels (true) or 1 (false); null keeps each image's own.</param>
    public static DatumRecords Load(string source, string where, DataParameter.Types.DB backend = DataParameter.Types.DB.Lmdb, bool? color = null)
    {
        if (backend == DataParameter.Types.DB.Leveldb) return LoadLevelDb(source, where, color);
        if (backend != DataParameter.Types.DB.Lmdb) throw new CaffeNetException($"{where}: backend {backend} is not supported; Backprop reads LMDB and LEVELDB.");
        using var reader = new Lmdb.LmdbDatumReader(source);
        // Records are copied into the arrays one at a time: holding every parsed Datum at once would double
        // the peak memory of a training run. (The reader maps nothing, so no database pages stay resident.)
        string file = Path.Combine(reader.Directory, "data.mdb");
        string name = $"{where}: {source}";
        return FromDatums(reader.Records().Select(r => (r.Key, Decoded(r.Key, r.Datum, name, color))), reader.Count, name, new FileInfo(file).Length,
            encoded: reader.Records().Take(1).Any(r => r.Datum.Encoded));
    }

    private static Datum Decoded(string key, Datum datum, string where, bool? color)
    {
        try { return EncodedDatums.Decode(datum, $"record '{key}'", color); }
        catch (InvalidDataException e) { throw new CaffeNetException($"{where}: {e.Message}", e); }
    }

    /// <summary>
    /// Reads a LevelDB and closes it at once, releasing LevelDB's one-process lock (so a train and a test net may
    /// name the same source). The bound on what the records hold is their values' total length, uncompressed.
    /// </summary>
    private static DatumRecords LoadLevelDb(string source, string where, bool? color)
    {
        LevelDb.LevelDbDatumReader reader;
        try { reader = new LevelDb.LevelDbDatumReader(source); }
        catch (DllNotFoundException e) { throw new CaffeNetException($"{where}: {e.Message}", e); }
        string name = $"{where}: {source}";
        using (reader)
            return FromDatums(reader.Records().Select(r => (r.Key, Decoded(r.Key, r.Datum, name, color))), reader.Count, name, reader.ValueBytes,
                encoded: reader.Records().Take(1).Any(r => r.Datum.Encoded));
    }

    /// <summary>
    /// Copies <paramref name="count"/> records into one array. Nothing is allocated for them until the first record
    /// has been checked: its shape against the values it really holds, and the count times that shape against
    /// <paramref name="storedBytes"/> (the database file's length: every value is stored in it, a float in at least
    /// 4 bytes), so a record or a count that claims more than the file holds is refused, not allocated.
    /// </summary>
    /// <param name="where">The layer and database, for messages.</param>
    /// <param name="encoded">The records were stored encoded and are decoded on the way: images take more than the file,
    /// so the count is checked only against what one array holds (each image against ImageFile.MaxPixels as it is decoded).</param>
    public static DatumRecords FromDatums(IEnumerable<(string Key, Datum Datum)> datums, long count, string where, long storedBytes, bool encoded = false)
    {
        if (count > int.MaxValue) throw new CaffeNetException($"{where}: {count} records are more than one data layer can hold.");
        var r = new DatumRecords { Count = (int)count };
        using var records = datums.GetEnumerator();
        if (count == 0) return r;
        if (!records.MoveNext()) throw new CaffeNetException($"{where}: the database says it holds {count} records but has none.");
        var (firstKey, first) = records.Current;
        long size = CheckFirst(first, $"{where}: record 0 (key '{firstKey}')");
        bool useFloats = first.Data.Length == 0;
        long total = size * count;   // each factor below 2^31: no overflow
        string claim = $"{count} records of {first.Channels}x{first.Height}x{first.Width} {(useFloats ? "floats" : "bytes")}";
        if (total > Array.MaxLength)
            throw new CaffeNetException($"{where}: the database says it holds {claim}, {total} values, more than one array can hold ({Array.MaxLength}).");
        long stored = total * (useFloats ? sizeof(float) : 1);
        if (stored > storedBytes && !encoded)
            throw new CaffeNetException($"{where}: the database says it holds {claim}, {stored} bytes, more than its {storedBytes}-byte file can hold.");
        (r.Channels, r.Height, r.Width) = (first.Channels, first.Height, first.Width);
        if (useFloats) r.floats = new float[total];
        else r.bytes = new byte[total];
        r.labels = new float[r.Count];
        for (int i = 0; i < r.Count; i++)
        {
            if (i > 0 && !records.MoveNext()) throw new CaffeNetException($"{where}: the database says it holds {count} records but has {i}.");
            var (key, d) = records.Current;
            string record = $"record {i} (key '{key}')";
            if (d.Encoded) throw new CaffeNetException($"{where}: {record} is an encoded image; Backprop reads raw Datum records (convert with encoded: false).");
            if (d.Channels != r.Channels || d.Height != r.Height || d.Width != r.Width)
                throw new CaffeNetException($"{where}: {record} has shape {d.Channels}x{d.Height}x{d.Width}, but record 0 has {r.Channels}x{r.Height}x{r.Width}.");
            if (useFloats)
            {
                if (d.FloatData.Count != r.Size) throw new CaffeNetException($"{where}: {record} has {d.FloatData.Count} float values for {r.Size} pixels.");
                d.FloatData.CopyTo(r.floats!, i * r.Size);
            }
            else
            {
                if (d.Data.Length != r.Size) throw new CaffeNetException($"{where}: {record} has {d.Data.Length} bytes for {r.Size} pixels.");
                d.Data.Span.CopyTo(r.bytes.AsSpan(i * r.Size));
            }
            r.labels[i] = d.Label;
        }
        return r;
    }

    /// <summary>The first record's C·H·W, checked against the values it holds; the shape of every later one must match it.</summary>
    private static long CheckFirst(Datum first, string record)
    {
        string shape = $"{first.Channels}x{first.Height}x{first.Width}";
        if (first.Channels < 1 || first.Height < 1 || first.Width < 1)
            throw new CaffeNetException($"{record} has shape {shape}.");
        if (first.Encoded) throw new CaffeNetException($"{record} is an encoded image; Backprop reads raw Datum records (convert with encoded: false).");
        long size = (long)first.Channels * first.Height * first.Width;   // each factor below 2^31, the product below 2^63
        long held = first.Data.Length > 0 ? first.Data.Length : first.FloatData.Count;
        if (size != held)
            throw new CaffeNetException($"{record} has shape {shape} ({size} values) but holds {first.Data.Length} bytes and {first.FloatData.Count} floats.");
        return size;
    }
}
