using System.CommandLine;
using System.Globalization;
using Backprop.Detection;
using Backprop.Vision;
using Backprop.Viz;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop anchors --image IMG [--annotation XML] --output anchors.png</c>: the k anchors at one feature position,
/// and the 256 anchors a region proposal network would train on for the image's ground truth.
/// </summary>
public static class AnchorsCommand
{
    internal static Command Create()
    {
        var image = new Option<FileInfo>("--image") { Description = "A PNG or JPEG image.", Required = true };
        var annotation = new Option<FileInfo?>("--annotation") { Description = "Its PASCAL VOC annotation (XML): the sampled positives and negatives are drawn against these boxes." };
        var stride = new Option<int>("--stride") { Description = "Image pixels per feature-map position (16 for VGG16's conv5_3).", DefaultValueFactory = _ => 16 };
        var sizes = new Option<string?>("--sizes") { Description = "Anchor sizes in pixels (square-root areas); default 1/7, 2/7 and 4/7 of the image's longer side, as 'detect train' (the paper's 128,256,512 suit 600-pixel images)." };
        var ratios = new Option<string>("--ratios") { Description = "Anchor aspect ratios (height / width).", DefaultValueFactory = _ => "0.5,1,2" };
        var position = new Option<string?>("--position") { Description = "The feature position whose anchors are drawn, as row,column (default: the centre)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the sampler.", DefaultValueFactory = _ => 1 };
        var output = new Option<FileInfo>("--output") { Description = "The PNG to write.", Required = true };
        var command = new Command("anchors", "Draw a region proposal network's anchors and the 256 it samples for an image.")
            { image, annotation, stride, sizes, ratios, position, seed, output };
        command.SetAction(r => CommandErrors.Run(() => Run(r.GetValue(image)!.FullName, r.GetValue(annotation)?.FullName, r.GetValue(stride),
            r.GetValue(sizes) is { } text ? DetectCommand.Numbers(text, "--sizes") : null, DetectCommand.Numbers(r.GetValue(ratios)!, "--ratios"),
            r.GetValue(position), r.GetValue(seed), r.GetValue(output)!.FullName)));
        return command;
    }

    /// <param name="sizes">Anchor sizes; null for 1/7, 2/7 and 4/7 of the image's longer side.</param>
    public static int Run(string imagePath, string? annotationPath, int stride, float[]? sizes, float[] ratios, string? position, ulong seed, string outputPath)
    {
        if (stride < 1) throw new ArgumentException($"--stride must be positive, got {stride}.");
        var image = DetectionImages.Load(imagePath);
        int longer = Math.Max(image.Height, image.Width);
        sizes ??= [longer / 7f, longer * 2 / 7f, longer * 4 / 7f];
        int fh = image.Height / stride, fw = image.Width / stride;
        if (fh < 1 || fw < 1) throw new ArgumentException($"A {image.Width}x{image.Height} image has no feature positions at stride {stride}.");
        var generator = new AnchorGenerator(sizes, ratios);
        int k = generator.AnchorsPerLocation;
        var anchors = generator.GridAnchors(fh, fw, stride, stride);
        var (row, column) = Position(position, fh, fw);
        int first = (row * fw + column) * k;

        DetectionTarget? truth = null;
        RpnSample? sample = null;
        if (annotationPath is not null)
        {
            var parsed = VocAnnotation.Parse(annotationPath);
            if (parsed.Width != image.Width || parsed.Height != image.Height)
                throw new InvalidDataException($"{annotationPath} describes a {parsed.Width}x{parsed.Height} image but {imagePath} is {image.Width}x{image.Height}.");
            truth = DetectionImages.Target(parsed.Objects, parsed.Width, parsed.Height, _ => 1);
            // The RPN's own labelling and sampling, with its default thresholds (0.7 / 0.3, 256 per image, half positive).
            var rpn = new RpnOptions();
            var (labels, _, usable) = BoxLabeling.Label(anchors, truth, (image.Height, image.Width), new Matcher(rpn.PositiveIou, rpn.NegativeIou, allowLowQualityMatches: true));
            var (positive, negative) = new BalancedPositiveNegativeSampler(rpn.BatchSizePerImage, rpn.PositiveFraction).Sample(labels, new Generator(seed));
            truth = usable;
            sample = new RpnSample(positive, negative);
            Console.WriteLine($"{truth.Count} ground-truth boxes; {labels.Count(l => l == 1)} positive, {labels.Count(l => l == 0)} negative and {labels.Count(l => l < 0)} ignored anchors of {labels.Length}.");
            Console.WriteLine($"Sampled {positive.Length} positives and {negative.Length} negatives (at most 128 positives of 256).");
            var cell = generator.CellAnchors().ToArray();
            for (int a = 0; a < k; a++)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  anchor type {a} ({cell[4 * a + 2] - cell[4 * a]:F0}x{cell[4 * a + 3] - cell[4 * a + 1]:F0}): {positive.Count(i => i % k == a)} positive, {negative.Count(i => i % k == a)} negative"));
        }
        AnchorPicture.Save(outputPath, image, anchors.Slice(first, first + k), anchors, truth, sample);
        Console.WriteLine($"Wrote the {k} anchors at feature position ({row}, {column}) of {fh}x{fw}{(sample is null ? "" : " and the sampled anchors")} to {outputPath}.");
        return 0;
    }

    private static (int Row, int Column) Position(string? text, int fh, int fw)
    {
        if (text is null) return (fh / 2, fw / 2);
        var parts = text.Split(',');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int row) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int column)
            || row < 0 || row >= fh || column < 0 || column >= fw)
            throw new ArgumentException($"--position must be row,column inside the {fh}x{fw} feature map, got '{text}'.");
        return (row, column);
    }
}
