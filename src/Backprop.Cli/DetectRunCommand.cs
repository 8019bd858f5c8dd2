using System.CommandLine;
using System.Globalization;
using Backprop.Detection;
using Backprop.Vision;
using Backprop.Viz;

namespace Backprop.Cli;

/// <summary><c>backprop detect run --weights MODEL --image IMG --output OUT.png</c>: boxes with class and score drawn on the image.</summary>
public static class DetectRunCommand
{
    internal static Command Create()
    {
        var weights = new Option<FileInfo>("--weights") { Description = "The model file written by 'detect train'.", Required = true };
        var image = new Option<FileInfo>("--image") { Description = "A PNG or JPEG image.", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "The PNG to write.", Required = true };
        var minScore = new Option<float>("--min-score") { Description = "Draw detections scoring at least this.", DefaultValueFactory = _ => 0.5f };
        var command = new Command("run", "Detect objects in an image and draw them.") { weights, image, output, minScore };
        command.SetAction(r => CommandErrors.Run(() =>
            Run(r.GetValue(weights)!.FullName, r.GetValue(image)!.FullName, r.GetValue(output)!.FullName, r.GetValue(minScore))));
        return command;
    }

    public static int Run(string weightsPath, string imagePath, string outputPath, float minScore)
    {
        var model = DetectorFile.Load(weightsPath);
        var classes = model.Config!.Classes;
        var original = new DetectionSample(DetectionImages.Load(imagePath), new DetectionTarget(Tensor.Zeros(0, 4), []), Path.GetFileName(imagePath));
        var sample = DetectionResize.ToImageSize(original, model.Config.ImageSize);
        var batch = DetectionBatch.Collate([sample]);
        var found = model.Detect(batch.Images, batch.ImageSizes)[0];
        // Boxes back in the given image's pixels, as torchvision's transform returns them.
        var detections = found with { Boxes = DetectionResize.ScaleBoxes(found.Boxes,
            (float)original.Image.Width / sample.Image.Width, (float)original.Image.Height / sample.Image.Height) };
        DetectionPicture.Save(outputPath, original.Image, detections, classes, minScore);
        var scores = detections.Scores;
        var b = detections.Boxes.ToArray();
        int shown = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (scores[i] < minScore) continue;
            shown++;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{classes[detections.Labels[i] - 1]} {scores[i]:F3} at ({b[4 * i]:F0}, {b[4 * i + 1]:F0}, {b[4 * i + 2]:F0}, {b[4 * i + 3]:F0})"));
        }
        Console.WriteLine($"{shown} detections scoring at least {minScore.ToString(CultureInfo.InvariantCulture)}; wrote {outputPath}.");
        return 0;
    }
}
