using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Google.Protobuf;

namespace Backprop.Caffe.LevelDb;

/// <summary>
/// Caffe's <c>examples/siamese/convert_mnist_siamese_data</c>: an MNIST IDX pair becomes a LevelDB of image pairs, as
/// many pairs as images. Pair k (key <see cref="MnistToLmdb.Key"/>(k)) is a <see cref="Datum"/> of 2 channels, the
/// rows x cols pixels of image i then of image j, with i and j drawn at random; its label is 1 when the two digits are
/// equal, else 0. The siamese example's Slice layer splits the channels back into the two images.
/// </summary>
/// <remarks>
/// The draws come from Backprop's <see cref="Generator"/> seeded with the given seed (the same seed, the same pairs),
/// so the pairs are not the ones Caffe's tool writes (it draws from its own randomly seeded generator, caffe_rng_rand).
/// </remarks>
public static class MnistSiameseToLevelDb
{
    /// <summary>Converts the pair and returns the number of pairs written.</summary>
    /// <param name="imagesIdxPath">Images: unsigned bytes (N, rows, cols), plain or gzipped.</param>
    /// <param name="labelsIdxPath">Labels: unsigned bytes (N), plain or gzipped.</param>
    /// <param name="outputDirectory">The LevelDB directory to create; it must not exist or be empty.</param>
    /// <param name="seed">Seeds the choice of pairs.</param>
    /// <param name="overwrite">Replace an existing LevelDB directory (one holding only LevelDB's files).</param>
    /// <param name="progress">Receives the number of pairs written so far, every 1000 and at the end.</param>
    /// <exception cref="InvalidDataException">A file is not MNIST's, or the two disagree on the count; the message names them.</exception>
    /// <exception cref="DllNotFoundException">The LevelDB library is not installed; the message says which package to install.</exception>
    public static int Convert(string imagesIdxPath, string labelsIdxPath, string outputDirectory, ulong seed,
        bool overwrite = false, IProgress<int>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesIdxPath);
        ArgumentException.ThrowIfNullOrEmpty(labelsIdxPath);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ImagesToLevelDb.CheckOutput(Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar), overwrite);   // before the reading
        var (pixels, labels, rows, cols) = MnistToLmdb.ReadPair(imagesIdxPath, labelsIdxPath);
        int count = labels.Length, size = rows * cols;
        if (count == 0) throw new InvalidDataException($"'{imagesIdxPath}' holds no images; there is nothing to pair.");

        var random = new Generator(seed);
        var pair = new byte[2 * size];
        using var database = PendingLevelDb.Begin(outputDirectory, overwrite);
        for (int item = 0; item < count; item++)
        {
            int i = random.NextInt(count), j = random.NextInt(count);   // i first, then j, as Caffe draws them
            pixels.AsSpan(i * size, size).CopyTo(pair);
            pixels.AsSpan(j * size, size).CopyTo(pair.AsSpan(size));
            var datum = new Datum
            {
                Channels = 2,
                Height = rows,
                Width = cols,
                Data = ByteString.CopyFrom(pair),
                Label = labels[i] == labels[j] ? 1 : 0,
            };
            database.Add(System.Text.Encoding.ASCII.GetBytes(MnistToLmdb.Key(item)), datum.ToByteArray());
            if ((item + 1) % LevelDbWriter.RecordsPerBatch == 0) progress?.Report(item + 1);
        }
        database.Commit();
        if (count % LevelDbWriter.RecordsPerBatch != 0) progress?.Report(count);
        return count;
    }
}
