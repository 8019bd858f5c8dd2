using System.CommandLine;
using Backprop.Caffe.Proto;
using Backprop.Viz;

namespace Backprop.Cli;

/// <summary><c>backprop features --model M --weights W --image img.png --layer conv1 --output f.png</c>: the feature maps one image gives at a layer.</summary>
public static class FeaturesCommand
{
    internal static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The net prototxt, or a saved Keras model (.keras, .h5, .safetensors from Save).", Required = true };
        var weights = new Option<FileInfo?>("--weights") { Description = "The trained .caffemodel (with a prototxt; a Keras model file holds its weights)." };
        var image = new Option<FileInfo>("--image") { Description = "The input image (PNG, JPEG, ...).", Required = true };
        var layer = new Option<string>("--layer") { Description = "The layer whose output to draw (a Keras model's layer name: conv2d, max_pooling2d, ...).", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "The PNG to write.", Required = true };
        var scale = new Option<int?>("--scale") { Description = "Pixels per value (nearest-neighbour upscaling). Default: maps about 64 pixels wide." };
        var shared = new Option<bool>("--shared-range") { Description = "One gray scale for all maps instead of one per map." };
        var inputShape = VizArguments.InputShape();
        inputShape.Description = "The net's input C,H,W (or N,C,H,W; N is ignored) when its data layer cannot be read to tell.";
        var allowNonFinite = WeightsArguments.AllowNonFinite();
        var command = new Command("features", "Write a labelled PNG of the feature maps one image produces at a layer.") { model, weights, image, layer, output, scale, shared, inputShape, allowNonFinite };
        command.SetAction(r => CommandErrors.Run(() => Run(r.GetValue(model)!.FullName, r.GetValue(weights)?.FullName, r.GetValue(image)!.FullName,
            r.GetValue(layer)!, r.GetValue(output)!.FullName, VizArguments.ParseShape(r.GetValue(inputShape)),
            new FilterGridOptions
            {
                Scale = r.GetValue(scale) is int s ? FiltersCommand.Positive(s) : 0,
                Range = r.GetValue(shared) ? ValueRange.Shared : ValueRange.PerFilter,
            },
            r.GetValue(allowNonFinite))));
        return command;
    }

    /// <summary>
    /// Runs the image through the TEST net up to <paramref name="layer"/> and writes that layer's output as a grid.
    /// The image is resized to the net's input size (from <paramref name="inputShape"/>, else from the net's own
    /// data or Input layer) and scaled as the data layer's transform_param says. NaN or infinite weights are refused
    /// unless <paramref name="allowNonFiniteWeights"/>.
    /// </summary>
    public static int Run(string modelPath, string? weightsPath, string imagePath, string layer, string outputPath,
                          IReadOnlyList<int>? inputShape = null, FilterGridOptions? options = null, bool allowNonFiniteWeights = false)
    {
        if (KerasModels.TryLoad(modelPath, "features") is { } keras)
        {
            if (weightsPath is not null) throw new ArgumentException($"--weights goes with a prototxt; the Keras model {modelPath} holds its own weights.");
            var (kerasMaps, size) = KerasFeatures.MapsAt(keras, modelPath, imagePath, layer, inputShape);
            Write(kerasMaps, layer, imagePath, outputPath, options);
            Console.WriteLine($"Wrote the {layer} output {kerasMaps.Shape} for {imagePath} ({size} input) to {outputPath}.");
            return 0;
        }
        if (weightsPath is null) throw new ArgumentException($"--weights is required with the net definition {modelPath}: pass the trained .caffemodel.");
        var net = CaffeInspection.ReadNet(modelPath);
        int c, h, w;
        if (inputShape is not null)
        {
            if (inputShape.Count is not (3 or 4)) throw new ArgumentException($"--input-shape needs C,H,W or N,C,H,W, got {inputShape.Count} sizes.");
            (c, h, w) = (inputShape[^3], inputShape[^2], inputShape[^1]);
        }
        else
        {
            var firstLayer = net.Layer.FirstOrDefault(l => Caffe.NetStateFilter.Includes(l, new NetState { Phase = Phase.Test }))?.Name;
            var input = firstLayer is null ? null
                : CaffeInspection.InputShapeOf(CaffeInspection.Build(CaffeInspection.CutAfter(net, Phase.Test, firstLayer), Phase.Test, null, Path.GetDirectoryName(modelPath)));
            if (input is null) throw new Caffe.CaffeNetException($"{modelPath} has no TEST-phase layers.");
            (c, h, w) = (input[1], input[2], input[3]);
        }
        var tensor = CaffeInspection.PrepareImage(imagePath, net, Phase.Test, c, h, w);
        var maps = CaffeInspection.FeatureMapsAt(net, Caffe.Snapshots.ReadModel(weightsPath), weightsPath, tensor, layer,
            WeightsArguments.ToConsole(allowNonFiniteWeights));
        Write(maps, layer, imagePath, outputPath, options);
        Console.WriteLine($"Wrote the {layer} output {maps.Shape} for {imagePath} ({c}x{h}x{w} input) to {outputPath}.");
        return 0;
    }

    /// <summary>Draws (1, C, H, W) maps (or (1, F) values) as a labelled grid of readable tiles.</summary>
    private static void Write(Tensor maps, string layer, string imagePath, string outputPath, FilterGridOptions? options)
    {
        var (mh, mw) = maps.Shape.Rank == 4 ? (maps.Shape[2], maps.Shape[3]) : (1, 1);
        // No scale (0: --scale not given) means readable tiles.
        if (options is null || options.Scale == 0) options = (options ?? new FilterGridOptions()) with { Scale = FeatureMaps.AutoScale(mh, mw) };
        using var picture = FeatureMaps.RenderLabelled(maps, $"{layer} output for {Path.GetFileName(imagePath)}: {maps.Shape}", options);
        picture.Save(outputPath);
    }
}
