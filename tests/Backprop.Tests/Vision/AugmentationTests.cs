using Backprop.Keras;
using Backprop.Vision;

namespace Backprop.Tests.Vision;

public class AugmentationTests
{
    /// <summary>A 3-channel image whose pixel (y, x) is 16y + x + 100c: asymmetric every way.</summary>
    private static Image Ramp(int h = 9, int w = 7)
    {
        var image = new Image(3, h, w);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) image[c, y, x] = 16 * y + x + 100 * c;
        return image;
    }

    [Fact]
    public void HorizontalFlipHappensAboutHalfTheTime()
    {
        var transform = new ImageDataGenerator(horizontalFlip: true).Transform!;
        var image = Ramp();
        var flipped = RandomFlip.Flip(image, horizontal: true, vertical: false);
        var g = new Generator(11);
        int flips = 0, n = 2000;
        for (int i = 0; i < n; i++)
        {
            var result = transform.Apply(image, g).Pixels;
            if (result.SequenceEqual(flipped.Pixels)) flips++;
            else Assert.Equal(image.Pixels, result);
        }
        Assert.InRange(flips, n * 0.45, n * 0.55);
    }

    [Fact]
    public void ZoomAndShearChangePixelsButKeepTheShape()
    {
        var image = Ramp();
        var g = new Generator(3);
        foreach (IImageTransform t in new IImageTransform[] { new RandomZoom(0.3), new RandomShear(20), new RandomAffine(0.2, 0.2) })
        {
            int changed = 0;
            for (int i = 0; i < 20; i++)
            {
                var result = t.Apply(image, g);
                Assert.Equal((3, 9, 7), (result.Channels, result.Height, result.Width));
                if (!result.Pixels.SequenceEqual(image.Pixels)) changed++;
                Assert.InRange(result.Pixels.Min(), image.Pixels.Min(), image.Pixels.Max());   // nearest fill stays in range
            }
            Assert.True(changed >= 19, $"{t} changed {changed} of 20");
        }
    }

    [Fact]
    public void WarpSamplesAboutTheCentreWithEdgeRepeat()
    {
        var image = Ramp();
        Assert.Equal(image.Pixels, RandomAffine.Warp(image, 1, 0, 0, 1).Pixels);
        // Rows zoomed by 2 about centre row 4: output row y reads row 4 + 2(y − 4), clamped to 0..8.
        var zoomed = RandomAffine.Warp(image, 2, 0, 0, 1);
        for (int y = 0; y < 9; y++)
            Assert.Equal(16 * Math.Clamp(4 + 2 * (y - 4), 0, 8) + 5, zoomed[0, y, 5], 4);
        // A shear by b: output (y, x) reads row cy + b(x − cx): row offsets grow with the column.
        var sheared = RandomAffine.Warp(image, 1, 0.5, 0, 1);
        Assert.Equal(16 * (4 + 0.5 * (6 - 3)) + 6, sheared[0, 4, 6], 3);
    }

    [Fact]
    public void AugmentationRepeatsWithTheSeedAndKeepsTheBatchShape()
    {
        using var folder = new Keras.ImageFolderFixture(3);
        DirectoryBatchSource Source() => KerasUtils.ImageDatasetFromDirectory(folder.Root, imageSize: (8, 8), batchSize: 6, seed: 2)
            .WithAugmentation(new RandomFlip(), new RandomZoom(0.2), new RandomShear(10));
        var a = Source().Batches(0).Select(b => b.X.ToArray()).ToList();
        var b = Source().Batches(0).Select(b => b.X.ToArray()).ToList();
        Assert.Equal(a, b);
        Assert.Equal([6, 8, 8, 3], Source().Batches(0).First().X.Shape.ToArray());
        var plain = KerasUtils.ImageDatasetFromDirectory(folder.Root, imageSize: (8, 8), batchSize: 6, seed: 2).Batches(0).Select(b => b.X.ToArray()).ToList();
        Assert.NotEqual(plain, a);
        Assert.Throws<ArgumentException>(() => Source().WithAugmentation(new RandomCrop(4, 4)));
    }
}
