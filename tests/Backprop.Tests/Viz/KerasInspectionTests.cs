using Backprop.Cli;
using Backprop.Keras;
using Backprop.Viz;
using SkiaSharp;

namespace Backprop.Tests.Viz;

/// <summary>The inspection commands take a saved Keras-style model, and Fit can write the training curves.</summary>
public sealed class KerasInspectionTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private static Sequential Model() => new(seed: 3,
        new Conv2D(4, (3, 3), inputShape: (8, 8, 3), activation: "relu"),
        new Backprop.Keras.Flatten(),
        new Dense(2, activation: "softmax"));

    [Fact]
    public void FiltersOfASavedKerasModelAreDrawnInColour()
    {
        var model = Model();
        string path = dir.File("model.safetensors");
        model.Save(path);
        string png = dir.File("filters.png");
        Assert.Equal(0, FiltersCommand.Run(path, null, "conv2d", png, new FilterGridOptions { Scale = 2 }));
        using var bitmap = SKBitmap.Decode(png);
        // The labelled sheet of 4 colour tiles (RGB, as Keras images are): the same as the library draws.
        using var expected = FilterSheet.Render(KerasModels.ConvolutionWeights(path, "conv2d"), "conv2d", new FilterGridOptions { Scale = 2, Bgr = false });
        Assert.Equal("conv2d: 4 filters, 3×3, 3 channels as RGB colour", expected.Labels[0].Text);
        Assert.Equal(PngFile.Encode(expected.Bitmap), File.ReadAllBytes(png));
        var e = Assert.Throws<ArgumentException>(() => FiltersCommand.Run(path, null, "dense", png));
        Assert.Contains("conv2d", e.Message);
    }

    [Fact]
    public void SummaryOfASavedKerasModelIsKerasTable()
    {
        var model = Model();
        string path = dir.File("model.safetensors");
        model.Save(path);
        var saved = Console.Out;
        var text = new StringWriter();
        Console.SetOut(text);
        try { Assert.Equal(0, SummaryCommand.Run(path)); }
        finally { Console.SetOut(saved); }
        Assert.Contains("(None, 6, 6, 4)", text.ToString());
        Assert.Contains("112", text.ToString());   // 3·3·3·4 + 4
    }

    [Fact]
    public void FitWritesTheCsvLogAndThePlot()
    {
        var model = Model();
        model.Compile("adam", "sparse_categorical_crossentropy", ["accuracy"]);
        var g = new Generator(5);
        var x = Tensor.Rand(g, 16, 8, 8, 3);
        var y = Enumerable.Range(0, 16).Select(i => i % 2).ToArray();
        var curves = new TrainingCurvesCallback(dir.File("fit"));
        model.Fit(x, y, batchSize: 8, epochs: 3, validationSplit: 0.25, callbacks: [curves]);
        var csv = File.ReadAllLines(dir.File("fit_log.csv"));
        Assert.Equal(4, csv.Length);   // header + 3 epochs
        Assert.StartsWith("iteration,epoch,loss", csv[0]);
        Assert.Contains("val_accuracy", csv[0]);
        using var plot = SKBitmap.Decode(dir.File("fit_curves.png"));
        Assert.True(plot.Width > 100 && plot.Height > 100);
    }
}
