using System.Diagnostics;
using Backprop.Tests.IO;
using Backprop.Vision;
using KerasShapes;
using Xunit.Abstractions;

namespace Backprop.Tests.Examples;

public class KerasShapesExampleTests(ITestOutputHelper output)
{
    [Fact]
    public void TheTutorialModelLearnsCirclesAndSquaresFromFoldersPast90Percent()
    {
        using var dir = new TempDirectory();
        var clock = Stopwatch.StartNew();
        // 300 images at 32x32 (the example's 64x64 takes four times longer), 240 for training and 60 for validation.
        ShapeImages.Write(dir.Path, perClass: 150, size: 32, seed: 1);
        string? summary = null;
        var result = ShapesTraining.Train(dir.Path, imageSize: 32, epochs: 8, seed: 1, batchSize: 16, summary: s => summary = s);
        output.WriteLine(summary);
        for (int e = 0; e < result.History.Epochs.Count; e++)
            output.WriteLine($"epoch {e + 1}: loss {result.History.Loss[e]:F4} accuracy {result.History.Accuracy[e]:F4} val_loss {result.History.ValLoss[e]:F4} val_accuracy {result.History.ValAccuracy[e]:F4}");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s");

        Assert.Equal(["circles", "squares"], result.Training.ClassNames);
        Assert.Equal((240, 60), (result.Training.Count, result.Validation.Count));
        Assert.Contains("(None, 30, 30, 32)        896", summary);
        Assert.Contains("(None, 1)                 7201", summary);   // 15·15·32 + 1
        Assert.True(result.History.Loss[^1] < result.History.Loss[0], "the training loss fell");
        Assert.True(result.ValidationAccuracy > 0.9, $"validation accuracy {result.ValidationAccuracy:P1}");
    }

    [Fact]
    public void TheDatasetIsWrittenAsClassFoldersOfPngsTheSameForASeed()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        ShapeImages.Write(a.Path, perClass: 2, size: 64, seed: 4);
        ShapeImages.Write(b.Path, perClass: 2, size: 64, seed: 4);
        foreach (var name in new[] { "circles/00000.png", "squares/00001.png" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, name)), File.ReadAllBytes(Path.Combine(b.Path, name)));
        var data = ImageFolder.Load(a.Path, (64, 64), new ImageFolderOptions { Shuffle = false });
        Assert.Equal([0, 0, 1, 1], data.Labels);
        Assert.Equal(new Shape(4, 64, 64, 3), data.Images.Shape);
        // A light shape near the centre on a dark background.
        Assert.True(data.Images[0, 32, 32, 0] > 100 && data.Images[0, 0, 0, 0] < 140);
    }
}
