using Backprop.Cli;
using Backprop.Keras;
using Backprop.Tests.Viz;
using Backprop.Viz;
using SkiaSharp;

namespace Backprop.Tests.Cli;

/// <summary><c>backprop features</c>, <c>graph</c> and <c>summary</c> on saved Keras models, Sequential and functional, in every file format.</summary>
public sealed class KerasModelCommandTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private static Sequential SequentialModel() => new(seed: 3,
        new Conv2D(4, (3, 3), inputShape: (8, 8, 3), activation: "relu"),
        new MaxPooling2D(2),
        new Backprop.Keras.Flatten(),
        new Dense(2, activation: "softmax"));

    /// <summary>A residual block: conv2d and a 1x1 shortcut (conv2d_1) joined by Add.</summary>
    private static Model FunctionalModel()
    {
        var inputs = new Input((8, 8, 3), 5UL);
        var x = new Conv2D(4, 3, padding: "same", activation: "relu").Apply(inputs);
        var shortcut = new Conv2D(4, 1).Apply(inputs);
        x = new Add().Apply(x, shortcut);
        x = new GlobalAveragePooling2D().Apply(x);
        return new Model(inputs, new Dense(2, activation: "softmax").Apply(x), "residual");
    }

    private string Image()
    {
        using var bitmap = new SKBitmap(10, 12);   // resized to the model's 8x8
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 10; x++) bitmap.SetPixel(x, y, new SKColor((byte)(20 * x), (byte)(20 * y), (byte)(x * y)));
        string path = dir.File("image.png");
        File.WriteAllBytes(path, PngFile.Encode(bitmap));
        return path;
    }

    private static string Captured(Func<int> run)
    {
        var saved = Console.Out;
        var text = new StringWriter();
        Console.SetOut(text);
        try { Assert.Equal(0, run()); }
        finally { Console.SetOut(saved); }
        return text.ToString();
    }

    [Theory]
    [InlineData("model.keras")]
    [InlineData("model.h5")]
    [InlineData("model.safetensors")]
    public void FeaturesOfASavedSequentialDrawTheNamedLayer(string file)
    {
        var model = SequentialModel();
        string path = dir.File(file), image = Image(), png = dir.File("features.png");
        model.Save(path);
        string said = Captured(() => FeaturesCommand.Run(path, null, image, "conv2d", png));
        Assert.Contains("Wrote the conv2d output [1, 4, 6, 6]", said.Replace("(", "[").Replace(")", "]"));

        // The picture is the library's drawing of the model's own conv2d output for the image (RGB, scaled to 0..1).
        var rgb = Backprop.Vision.ImageResize.Bilinear(Backprop.Vision.ImageFile.Load(image, true, Backprop.Vision.ChannelOrder.Rgb), 8, 8);
        var x = Tensor.FromArray([.. rgb.Pixels.Select(p => p / 255f)], 1, 3, 8, 8).Permute(0, 2, 3, 1);
        var maps = model.PredictLayer(x, "conv2d").Permute(0, 3, 1, 2);
        using var expected = FeatureMaps.RenderLabelled(maps, $"conv2d output for image.png: {maps.Shape}",
            new FilterGridOptions { Scale = FeatureMaps.AutoScale(6, 6) });
        Assert.Equal(PngFile.Encode(expected.Bitmap), File.ReadAllBytes(png));
    }

    [Fact]
    public void FeaturesOfAFunctionalModelTakeItsLayerNames()
    {
        string path = dir.File("residual.h5"), image = Image(), png = dir.File("add.png");
        FunctionalModel().Save(path);
        string said = Captured(() => FeaturesCommand.Run(path, null, image, "add", png));
        Assert.Contains("Wrote the add output", said);
        using (var bitmap = SKBitmap.Decode(png)) Assert.True(bitmap.Width >= 4 * 8, $"{bitmap.Width} px wide");
        var e = Assert.Throws<ArgumentException>(() => FeaturesCommand.Run(path, null, image, "conv1", png));
        Assert.Contains("conv2d_1", e.Message);   // lists the model's layers
        Assert.Contains("--weights", Assert.Throws<ArgumentException>(() => FeaturesCommand.Run(path, dir.File("w.caffemodel"), image, "add", png)).Message);
    }

    [Theory]
    [InlineData("residual.keras")]
    [InlineData("residual.h5")]
    public void BackwardGraphOfAFunctionalModelNamesItsParameters(string file)
    {
        string path = dir.File(file), dot = dir.File("backward.dot");
        FunctionalModel().Save(path);
        Captured(() => GraphCommand.Run(path, dot, backward: true));
        string text = File.ReadAllText(dot);
        Assert.Contains("conv2d.weight", text);
        Assert.Contains("conv2d_1.weight", text);
        Assert.Contains("dense.bias", text);
        Assert.Contains("ConvolutionBackward0", text);
        Assert.Contains("AddBackward0", text);

        Captured(() => GraphCommand.Run(path, dot, backward: true, freeze: ["conv2d"]));
        string frozen = File.ReadAllText(dot);
        Assert.DoesNotContain("\"conv2d.weight", frozen.Replace("conv2d_1", "other"));
        Assert.Contains("conv2d_1.weight", frozen);
        Assert.Contains("no layer named 'conv9'", Assert.Throws<ArgumentException>(() => GraphCommand.Run(path, dot, backward: true, freeze: ["conv9"])).Message);
    }

    [Fact]
    public void LayerDiagramOfAKerasModelJoinsItsLayers()
    {
        string path = dir.File("residual.keras"), dot = dir.File("layers.dot");
        FunctionalModel().Save(path);
        Captured(() => GraphCommand.Run(path, dot));
        string text = File.ReadAllText(dot);
        Assert.Contains("\"input_1\" -> \"conv2d\"", text);
        Assert.Contains("\"input_1\" -> \"conv2d_1\"", text);
        Assert.Contains("\"conv2d_1\" -> \"add\"", text);
        Assert.Contains("add (Add)\\n(None, 8, 8, 4)", text);

        string seq = dir.File("seq.safetensors");
        SequentialModel().Save(seq);
        Captured(() => GraphCommand.Run(seq, dot));
        Assert.Contains("\"max_pooling2d\" -> \"flatten\"", File.ReadAllText(dot));
    }

    [Fact]
    public void SummaryOfAFunctionalModelShowsConnections()
    {
        string path = dir.File("residual.keras");
        FunctionalModel().Save(path);
        string table = Captured(() => SummaryCommand.Run(path));
        Assert.StartsWith("Model: \"residual\"", table);
        Assert.Contains("Connected to", table);
        Assert.Contains("'conv2d_1[0][0]'", table);
    }
}
