using System.CommandLine;
using System.Globalization;
using Backprop.Detection;

namespace Backprop.Cli;

/// <summary><c>backprop detect eval --data VOCDIR --weights MODEL</c>: VOC AP per class and mAP@0.5.</summary>
public static class DetectEvalCommand
{
    internal static Command Create()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "A PASCAL VOC-format folder.", Required = true };
        var split = new Option<string>("--split") { Description = "The image set to score (ImageSets/Main/<split>.txt).", DefaultValueFactory = _ => "test" };
        var weights = new Option<FileInfo>("--weights") { Description = "The model file written by 'detect train'.", Required = true };
        var use07 = new Option<bool>("--use07") { Description = "VOC2007's 11-point interpolated AP instead of all-point." };
        var coco = new Option<bool>("--coco") { Description = "Also print COCO-style mAP@[.5:.95]." };
        var command = new Command("eval", "Score a detector: VOC average precision per class and mAP@0.5.") { data, split, weights, use07, coco };
        command.SetAction(r => CommandErrors.Run(() =>
            Run(r.GetValue(data)!.FullName, r.GetValue(split)!, r.GetValue(weights)!.FullName, r.GetValue(use07), r.GetValue(coco))));
        return command;
    }

    public static int Run(string root, string split, string weightsPath, bool use07, bool coco)
    {
        var model = DetectorFile.Load(weightsPath);
        var classes = model.Config!.Classes;
        var data = new VocDataset(root, split, classes);
        var voc = new VocEvaluator(classes.Count, 0.5f, use07);
        var cocoEvaluator = new CocoEvaluator(classes.Count);
        foreach (var (truth, detections) in DetectionTraining.Detect(model, data))
        {
            voc.Add(truth, detections);
            if (coco) cocoEvaluator.Add(truth, detections);
        }
        var result = voc.Compute();
        for (int c = 0; c < classes.Count; c++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"AP for {classes[c]} = {result.ClassAp[c]:F4}"));
        double recall = DetectionTraining.RpnRecall(model, data, 300);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RPN recall at 300 proposals (IoU 0.5) = {recall:F4}"));
        double cocoMap = double.NaN;
        if (coco)
        {
            cocoMap = cocoEvaluator.Compute().MeanAp;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mAP@[.5:.95] = {cocoMap:F4}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT backprop map50={result.MeanAp:F4} recall300={recall:F4}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mAP@0.5 = {result.MeanAp:F4}"));
        return 0;
    }
}
