using Backprop.Caffe.Lmdb;
using Backprop.Cli;
using Backprop.Tests.Data;

namespace Backprop.Tests.Cli;

/// <summary>The generated CIFAR-shaped set: repeatable per image, learnable, and written as Caffe LMDBs plus raw bytes.</summary>
public class SynthesizeCifarTests
{
    [Fact]
    public void EachImageDependsOnlyOnSeedSplitAndIndex()
    {
        var (small, smallLabels) = SyntheticCifar.Generate(12, 5, 0);
        var (large, largeLabels) = SyntheticCifar.Generate(30, 5, 0);
        Assert.True(small.AsSpan().SequenceEqual(large.AsSpan(0, small.Length)), "the first 12 images changed with the set's size");
        Assert.Equal(smallLabels, largeLabels[..12]);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (byte)(i % 10)), largeLabels);
        var (otherSeed, _) = SyntheticCifar.Generate(12, 6, 0);
        var (otherSplit, _) = SyntheticCifar.Generate(12, 5, 1);
        for (int i = 0; i < 12; i++)
        {
            var image = small.AsSpan(i * SyntheticCifar.ImageBytes, SyntheticCifar.ImageBytes);
            Assert.False(image.SequenceEqual(otherSeed.AsSpan(i * SyntheticCifar.ImageBytes, SyntheticCifar.ImageBytes)), $"image {i} is the same under seed 6");
            Assert.False(image.SequenceEqual(otherSplit.AsSpan(i * SyntheticCifar.ImageBytes, SyntheticCifar.ImageBytes)), $"image {i} is the same in the test split");
        }
    }

    [Fact]
    public void NearestClassMeanBeatsChanceOnTheTestSplit()
    {
        // Not a measure of how hard the set is: only that the pixels carry the class (random labels would give ~10%).
        const int bytes = SyntheticCifar.ImageBytes;
        var (train, trainLabels) = SyntheticCifar.Generate(1000, 1, 0);
        var (test, testLabels) = SyntheticCifar.Generate(300, 1, 1);
        var means = new double[10, bytes];
        for (int i = 0; i < trainLabels.Length; i++)
            for (int p = 0; p < bytes; p++) means[trainLabels[i], p] += train[i * bytes + p] / 100.0;
        int correct = 0;
        for (int i = 0; i < testLabels.Length; i++)
        {
            int best = -1;
            double bestDistance = double.MaxValue;
            for (int c = 0; c < 10; c++)
            {
                double d = 0;
                for (int p = 0; p < bytes; p++) d += Math.Pow(test[i * bytes + p] - means[c, p], 2);
                if (d < bestDistance) (best, bestDistance) = (c, d);
            }
            if (best == testLabels[i]) correct++;
        }
        double accuracy = correct / (double)testLabels.Length;
        Assert.True(accuracy > 0.2, $"nearest class mean: {accuracy:P1} on the test split");
    }

    [Fact]
    public void WritesLmdbsThatHoldTheRawFilesImages()
    {
        using var dir = new ScratchDirectory();
        SynthesizeCifarCommand.Write(dir.Path, 25, 7, 3, force: false);
        foreach (var (split, count) in new[] { ("train", 25), ("test", 7) })
        {
            byte[] images = File.ReadAllBytes(Path.Combine(dir.Path, $"{split}_images.u8"));
            byte[] labels = File.ReadAllBytes(Path.Combine(dir.Path, $"{split}_labels.u8"));
            Assert.Equal(count * SyntheticCifar.ImageBytes, images.Length);
            using var reader = new LmdbDatumReader(Path.Combine(dir.Path, $"cifar10_{split}_lmdb"));
            var records = reader.Records().ToList();
            Assert.Equal(count, records.Count);
            for (int i = 0; i < count; i++)
            {
                var datum = records[i].Datum;
                Assert.Equal((3, 32, 32, (int)labels[i]), (datum.Channels, datum.Height, datum.Width, datum.Label));
                Assert.True(datum.Data.Span.SequenceEqual(images.AsSpan(i * SyntheticCifar.ImageBytes, SyntheticCifar.ImageBytes)), $"{split} record {i} differs from the raw file");
            }
        }
        var error = Assert.Throws<IOException>(() => SynthesizeCifarCommand.Write(dir.Path, 25, 7, 3, force: false));
        Assert.Contains("cifar10_train_lmdb", error.Message);
        SynthesizeCifarCommand.Write(dir.Path, 10, 5, 4, force: true);
        Assert.Equal(10, new FileInfo(Path.Combine(dir.Path, "train_labels.u8")).Length);
    }

    [Fact]
    public void ImagesToLmdbRefusesPixelsThatDoNotMatchTheLabels()
    {
        using var dir = new ScratchDirectory();
        var error = Assert.Throws<ArgumentException>(() => ImagesToLmdb.Write(new byte[3 * 4 * 4 * 2 - 1], new byte[2], 3, 4, 4, Path.Combine(dir.Path, "db")));
        Assert.Contains("2 images of 3x4x4 bytes", error.Message);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "db")));
    }
}
