using Backprop.Caffe.Layers;
using Backprop.Caffe.LevelDb;
using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Lmdb;

/// <summary>
/// Caffe's compute_image_mean: the mean image of every Datum record of an LMDB or LevelDB database (encoded records decoded with
/// their own channel count), per pixel, and the per-channel means of that image.
/// </summary>
public static class ImageMeanComputation
{
    /// <summary>Computes the mean image of the database in <paramref name="source"/>.</summary>
    /// <param name="progress">Receives the number of records added so far, every 10000 and at the end.</param>
    /// <exception cref="InvalidDataException">The database is damaged, empty, or its records differ in size; the message names it.</exception>
    public static MeanImage FromLmdb(string source, IProgress<int>? progress = null)
    {
        using var reader = new LmdbDatumReader(source);
        return Compute(reader.Records().Select(r => (r.Key, r.Datum)), "LMDB", reader.Directory, progress);
    }

    /// <summary>Computes the mean image of the LevelDB database in <paramref name="source"/> (Caffe's <c>-backend leveldb</c>).</summary>
    /// <param name="progress">Receives the number of records added so far, every 10000 and at the end.</param>
    /// <exception cref="InvalidDataException">The database is damaged, empty, or its records differ in size; the message names it.</exception>
    /// <exception cref="DllNotFoundException">The LevelDB library is not installed.</exception>
    public static MeanImage FromLevelDb(string source, IProgress<int>? progress = null)
    {
        using var reader = new LevelDbDatumReader(source);
        return Compute(reader.Records().Select(r => (r.Key, r.Datum)), "LevelDB", reader.Directory, progress);
    }

    private static MeanImage Compute(IEnumerable<(string Key, Datum Datum)> records, string format, string directory, IProgress<int>? progress)
    {
        float[]? sum = null;
        int channels = 0, height = 0, width = 0, count = 0;
        foreach (var record in records)
        {
            string name = $"{directory}: record '{record.Key}'";
            var datum = EncodedDatums.Decode(record.Datum, name);
            int held = Math.Max(datum.Data.Length, datum.FloatData.Count);
            if (sum is null)
            {
                if (datum.Channels < 1 || datum.Height < 1 || datum.Width < 1 || (long)datum.Channels * datum.Height * datum.Width != held)
                    throw new InvalidDataException($"{name} has shape {datum.Channels}x{datum.Height}x{datum.Width} but holds {held} values.");
                (channels, height, width) = (datum.Channels, datum.Height, datum.Width);
                sum = new float[held];   // as many values as the record really holds
            }
            if (held != sum.Length || (datum.Data.Length > 0 && datum.FloatData.Count > 0))
                throw new InvalidDataException($"{name} holds {held} values, but the first record holds {sum.Length} ({channels}x{height}x{width}); a mean needs images of one size.");
            // Summed in float, in record order, as Caffe's tool sums into its BlobProto: the same mean to the bit.
            if (datum.Data.Length > 0)
            {
                var bytes = datum.Data.Span;
                for (int i = 0; i < sum.Length; i++) sum[i] += bytes[i];
            }
            else
                for (int i = 0; i < sum.Length; i++) sum[i] += datum.FloatData[i];
            if (++count % 10000 == 0) progress?.Report(count);
        }
        if (sum is null) throw new InvalidDataException($"The {format} database '{directory}' holds no records; there is nothing to average.");
        if (count % 10000 != 0) progress?.Report(count);
        for (int i = 0; i < sum.Length; i++) sum[i] /= count;
        return new MeanImage(channels, height, width, sum);
    }

    /// <summary>The mean of each channel of <paramref name="mean"/> (Caffe prints them as <c>mean_value channel [c]</c>).</summary>
    public static float[] ChannelMeans(MeanImage mean)
    {
        ArgumentNullException.ThrowIfNull(mean);
        int plane = mean.Height * mean.Width;
        var result = new float[mean.Channels];
        for (int c = 0; c < mean.Channels; c++)
        {
            float total = 0;   // float, as Caffe's tool adds them
            for (int i = 0; i < plane; i++) total += mean.Values[c * plane + i];
            result[c] = total / plane;
        }
        return result;
    }
}
