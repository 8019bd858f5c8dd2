using Backprop.Detection;
using Backprop.Tests.IO;
using Backprop.Vision;

namespace Backprop.Tests.Detection;

public class DetectionBatchTests
{
    private static DetectionSample Sample(string id, int height, int width, float offset, params float[] boxes)
    {
        var pixels = new float[3 * height * width];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = offset + i;
        int g = boxes.Length / 4;
        return new DetectionSample(new Image(3, height, width, pixels), new DetectionTarget(Tensor.FromArray(boxes, g, 4), Enumerable.Repeat(1, g).ToArray()), id);
    }

    [Fact]
    public void CollatePadsWithZerosBelowAndRight()
    {
        var a = Sample("a", 1, 3, 1, 0, 0, 3, 1);
        var b = Sample("b", 2, 1, 100);
        var batch = DetectionBatch.Collate([a, b]);
        Assert.Equal(new Shape(2, 3, 2, 3), batch.Images.Shape);
        Assert.Equal(new float[]
        {
            1, 2, 3, 0, 0, 0,   4, 5, 6, 0, 0, 0,   7, 8, 9, 0, 0, 0,                   // a: (3, 1, 3) in the top row
            100, 0, 0, 101, 0, 0,   102, 0, 0, 103, 0, 0,   104, 0, 0, 105, 0, 0,       // b: (3, 2, 1) in the left column
        }, batch.Images.ToArray());
        Assert.Equal([(1, 3), (2, 1)], batch.ImageSizes);
        Assert.Same(a.Target, batch.Targets[0]);
        Assert.Equal(["a", "b"], batch.Ids);
    }

    [Fact]
    public void CollateRefusesMixedChannelsAndEmptyLists()
    {
        var gray = new DetectionSample(new Image(1, 2, 2), new DetectionTarget(Tensor.Zeros(0, 4), []), "g");
        var e = Assert.Throws<ArgumentException>(() => DetectionBatch.Collate([Sample("a", 2, 2, 0), gray]));
        Assert.Contains("sample 1 ('g') has 1 channels", e.Message);
        Assert.Throws<ArgumentException>(() => DetectionBatch.Collate([]));
    }

    [Fact]
    public void HorizontalFlipMirrorsPixelsAndBoxes()
    {
        // 1 x 4 image, boxes (0, 0, 1, 1) and (1.5, 0, 4, 1): mirrored to (3, 0, 4, 1) and (0, 0, 2.5, 1).
        var s = Sample("s", 1, 4, 0, 0, 0, 1, 1, 1.5f, 0, 4, 1);
        var f = DetectionFlip.Horizontal(s);
        Assert.Equal([3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8], f.Image.Pixels);
        Assert.Equal([3, 0, 4, 1, 0, 0, 2.5f, 1], f.Target.Boxes.ToArray());
        Assert.Equal(s.Target.Labels, f.Target.Labels);
        Assert.Equal("s", f.Id);
        Assert.Equal([0, 0, 1, 1, 1.5f, 0, 4, 1], s.Target.Boxes.ToArray());   // the input is untouched
        Assert.Equal(s.Target.Boxes.ToArray(), DetectionFlip.Horizontal(f).Target.Boxes.ToArray());
    }

    [Fact]
    public void LoaderBatchesInOrderWithoutShuffleAndFlip()
    {
        using var dir = new TempDirectory();
        SyntheticShapes.WriteVoc(dir.Path, 5, 0, seed: 2, imageSize: 64);
        var dataset = new VocDataset(dir.Path);
        var loader = new DetectionLoader(dataset, batchSize: 2, shuffle: false, flip: false, seed: 1);
        Assert.Equal(3, loader.BatchesPerEpoch);
        for (int epoch = 0; epoch < 2; epoch++)   // the second epoch comes from the cache
        {
            var batches = loader.ToList();
            Assert.Equal([2, 2, 1], batches.Select(b => b.Count));
            Assert.Equal(["000000", "000001", "000002", "000003", "000004"], batches.SelectMany(b => b.Ids));
            var first = dataset.Load(2);
            Assert.Equal(first.Image.Pixels, batches[1].Images.ToArray()[..first.Image.Pixels.Length]);
            Assert.Equal(first.Target.Boxes.ToArray(), batches[1].Targets[0].Boxes.ToArray());
        }
    }

    [Fact]
    public void LoaderShufflesAndFlipsRepeatablyPerSeed()
    {
        using var dir = new TempDirectory();
        SyntheticShapes.WriteVoc(dir.Path, 8, 0, seed: 3, imageSize: 64);
        var dataset = new VocDataset(dir.Path);
        List<string> Epoch(DetectionLoader l) => l.SelectMany(b => b.Ids).ToList();
        var a = new DetectionLoader(dataset, 3, shuffle: true, flip: true, seed: 4);
        var b = new DetectionLoader(dataset, 3, shuffle: true, flip: true, seed: 4);
        var a1 = Epoch(a);
        var a2 = Epoch(a);
        Assert.Equal(dataset.Count, a1.Distinct().Count());
        Assert.Equal(a1, Epoch(b));
        Assert.Equal(a2, Epoch(b));
        Assert.NotEqual(a1, a2);   // the generator carries on, so epochs differ

        // Every sample is the dataset's sample, mirrored or not, and both happen.
        int flipped = 0, kept = 0;
        foreach (var batch in new DetectionLoader(dataset, 8, shuffle: true, flip: true, seed: 5))
            for (int i = 0; i < batch.Count; i++)
            {
                var original = dataset.Load(int.Parse(batch.Ids[i]));
                var mirrored = DetectionFlip.Horizontal(original);
                var pixels = batch.Images.ToArray()[(i * original.Image.Pixels.Length)..((i + 1) * original.Image.Pixels.Length)];
                if (pixels.SequenceEqual(original.Image.Pixels)) { kept++; Assert.Equal(original.Target.Boxes.ToArray(), batch.Targets[i].Boxes.ToArray()); }
                else { flipped++; Assert.Equal(mirrored.Image.Pixels, pixels); Assert.Equal(mirrored.Target.Boxes.ToArray(), batch.Targets[i].Boxes.ToArray()); }
            }
        Assert.True(flipped > 0 && kept > 0, $"{flipped} flipped, {kept} kept");
    }
}
