using System.CommandLine;
using Backprop.Caffe;
using Backprop.Viz;

namespace Backprop.Cli;

/// <summary><c>backprop filters --model M --weights W --layer conv1 --output f.png</c>: a PNG grid of a convolution layer's filters.</summary>
public static class FiltersCommand
{
    internal static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The net prototxt, or a saved Keras-style model (Sequential.Save).", Required = true };
        var weights = new Option<FileInfo?>("--weights") { Description = "The trained .caffemodel (Caffe nets only)." };
        var layer = new Option<string>("--layer") { Description = "The convolution layer (its name in the prototxt).", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "The PNG to write.", Required = true };
        var scale = new Option<int>("--scale") { Description = "Pixels per weight (nearest-neighbour upscaling).", DefaultValueFactory = _ => 8 };
        var shared = new Option<bool>("--shared-range") { Description = "One gray scale for all filters instead of one per filter." };
        var rgb = new Option<bool>("--rgb") { Description = "3-channel weights are in RGB order (Caffe's are BGR, the default)." };
        var gray = new Option<bool>("--gray") { Description = "Draw 3-channel filters as 3 gray tiles instead of one colour tile." };
        var channels = new Option<string>("--channels")
        {
            Description = "Filters with several input channels: 'l2' (one tile per filter, the L2 norm over its input channels), 'mean' (the channel mean), or 'all' (a filters x channels grid).",
            DefaultValueFactory = _ => "l2",
        };
        var command = new Command("filters", "Write a labelled PNG of a convolution layer's filters, one tile per filter.") { model, weights, layer, output, scale, shared, rgb, gray, channels };
        command.SetAction(r => CommandErrors.Run(() => Run(r.GetValue(model)!.FullName, r.GetValue(weights)?.FullName, r.GetValue(layer)!,
            r.GetValue(output)!.FullName, new FilterGridOptions
            {
                Scale = Positive(r.GetValue(scale)),
                Range = r.GetValue(shared) ? ValueRange.Shared : ValueRange.PerFilter,
                Bgr = !r.GetValue(rgb),
                Color = !r.GetValue(gray),
            }, ParseChannels(r.GetValue(channels)!))));
        return command;
    }

    internal static int Positive(int scale) =>
        scale is >= 1 and <= 64 ? scale : throw new ArgumentException($"--scale must be 1 to 64, got {scale}.");

    internal static ChannelSummary ParseChannels(string text) => text.ToLowerInvariant() switch
    {
        "l2" => ChannelSummary.L2Norm,
        "mean" => ChannelSummary.Mean,
        "all" => ChannelSummary.AllChannels,
        _ => throw new ArgumentException($"--channels must be l2, mean or all, got '{text}'."),
    };

    /// <summary>Writes the labelled filter picture of <paramref name="layer"/>; returns 0. The layer must be in the prototxt and hold weights in the caffemodel.</summary>
    public static int Run(string modelPath, string? weightsPath, string layer, string outputPath, FilterGridOptions? options = null,
                          ChannelSummary channels = ChannelSummary.L2Norm)
    {
        if (!KerasModels.IsPrototxt(modelPath))
        {
            var weightsOfKeras = KerasModels.ConvolutionWeights(modelPath, layer);
            // Keras images are RGB: draw 3-channel filters in that order unless told otherwise.
            FilterSheet.Save(weightsOfKeras, layer, outputPath, (options ?? new FilterGridOptions()) with { Bgr = false }, channels);
            Console.WriteLine($"Wrote the {weightsOfKeras.Shape[0]} filters of {layer} {weightsOfKeras.Shape} to {outputPath}.");
            return 0;
        }
        if (weightsPath is null) throw new ArgumentException("--weights (a .caffemodel) is required for a Caffe net.");
        var net = CaffeInspection.ReadNet(modelPath);
        var definition = net.Layer.FirstOrDefault(l => l.Name == layer)
            ?? throw new CaffeNetException($"{modelPath} has no layer '{layer}'; its convolution layers are {string.Join(", ", net.Layer.Where(l => l.Type is "Convolution" or "Deconvolution").Select(l => l.Name))}.");
        var weights = CaffeInspection.ReadLayerWeights(Snapshots.ReadModel(weightsPath), layer, weightsPath);
        if (weights.Shape.Rank != 4)
            throw new CaffeNetException($"Layer '{layer}' ({definition.Type}) has weights of shape {weights.Shape}, not convolution filters (K, C, KH, KW).");
        FilterSheet.Save(weights, layer, outputPath, options, channels);
        Console.WriteLine($"Wrote the {weights.Shape[0]} filters of {layer} {weights.Shape} to {outputPath}.");
        return 0;
    }
}
