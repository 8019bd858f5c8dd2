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

    public static DatumRecords Load(string source, string where)
    {
        using var reader = new Lmdb.LmdbDatumReader(source);
        // Records are copied into the arrays one at a time: holding every parsed Datum at once would double
        // the peak memory of a training run. (The reader maps nothing, so no database pages stay resident.)
        return FromDatums(reader.Records().Select(r => r.Datum), reader.Count, $"{where}: {source}");
    }

    public static DatumRecords FromDatums(IEnumerable<Datum> datums, long count, string where)
    {
        if (count > int.MaxValue) throw new CaffeNetException($"{where}: {count} records are more than one data layer can hold.");
        var r = new DatumRecords { Count = (int)count };
        using var records = datums.GetEnumerator();
        if (count == 0) return r;
        if (!records.MoveNext()) throw new CaffeNetException($"{where}: the database says it holds {count} records but has none.");
        var first = records.Current;
        r.Channels = first.Channels;
        r.Height = first.Height;
        r.Width = first.Width;
        if (r.Channels < 1 || r.Height < 1 || r.Width < 1)
            throw new CaffeNetException($"{where}: record 0 has shape {first.Channels}x{first.Height}x{first.Width}.");
        bool useFloats = first.Data.Length == 0;
        if (useFloats) r.floats = new float[(long)r.Size * r.Count];
        else r.bytes = new byte[(long)r.Size * r.Count];
        r.labels = new float[r.Count];
        for (int i = 0; i < r.Count; i++)
        {
            if (i > 0 && !records.MoveNext()) throw new CaffeNetException($"{where}: the database says it holds {count} records but has {i}.");
            var d = records.Current;
            if (d.Encoded) throw new CaffeNetException($"{where}: record {i} is an encoded image; Backprop reads raw Datum records (convert with encoded: false).");
            if (d.Channels != r.Channels || d.Height != r.Height || d.Width != r.Width)
                throw new CaffeNetException($"{where}: record {i} has shape {d.Channels}x{d.Height}x{d.Width}, but record 0 has {r.Channels}x{r.Height}x{r.Width}.");
            if (useFloats)
            {
                if (d.FloatData.Count != r.Size) throw new CaffeNetException($"{where}: record {i} has {d.FloatData.Count} float values for {r.Size} pixels.");
                d.FloatData.CopyTo(r.floats!, i * r.Size);
            }
            else
            {
                if (d.Data.Length != r.Size) throw new CaffeNetException($"{where}: record {i} has {d.Data.Length} bytes for {r.Size} pixels.");
                d.Data.Span.CopyTo(r.bytes.AsSpan(i * r.Size));
            }
            r.labels[i] = d.Label;
        }
        return r;
    }
}
