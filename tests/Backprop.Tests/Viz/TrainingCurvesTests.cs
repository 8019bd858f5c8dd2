using Backprop.Viz;
using SkiaSharp;

namespace Backprop.Tests.Viz;

public class TrainingCurvesTests
{
    [Fact]
    public void CsvHasOneRowPerIterationWithEmptyCellsWhereNoValue()
    {
        var curves = new TrainingCurves();
        curves.AddLoss(0, 0, 2.5);
        curves.AddLoss(1, 0.5, 1.25);
        curves.AddMetric("test_accuracy", 0, 0, 0.1);
        curves.AddMetric("test_accuracy", 2, 1, 0.75);
        curves.AddMetric("test_loss", 2, 1, 0.5);
        Assert.Equal(
            "iteration,epoch,loss,test_accuracy,test_loss\n" +
            "0,0,2.5,0.1,\n" +
            "1,0.5,1.25,,\n" +
            "2,1,,0.75,0.5\n", curves.ToCsv());
    }

    [Fact]
    public void PngDecodesAtTheRequestedSize()
    {
        var curves = new TrainingCurves { Title = "tiny" };
        for (int i = 0; i < 30; i++) curves.AddLoss(i, i / 10.0, 2.0 / (1 + i));
        curves.AddMetric("test_accuracy", 10, 1, 0.5);
        curves.AddMetric("test_accuracy", 20, 2, 0.8);
        using var dir = new TempDirectory();
        string path = dir.File("curves.png");
        curves.SavePng(path, CurveAxis.Epoch, 400, 300);
        using var b = SKBitmap.Decode(File.ReadAllBytes(path));
        Assert.Equal((400, 300), (b.Width, b.Height));
        // Something was drawn: not every pixel has the background colour.
        var corner = b.GetPixel(0, 0);
        Assert.Contains(Enumerable.Range(0, 300).SelectMany(y => Enumerable.Range(0, 400).Select(x => (x, y))), p => b.GetPixel(p.x, p.y) != corner);
    }
}
