using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Backprop.Caffe;
using Backprop.Detection;

namespace Backprop.Cli;

/// <summary><c>backprop detect train --data VOCDIR --output MODEL</c>: trains a Faster R-CNN.</summary>
public static class DetectTrainCommand
{
    internal static Command Create()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "A PASCAL VOC-format folder (Annotations/, JPEGImages/, ImageSets/Main/).", Required = true };
        var split = new Option<string>("--split") { Description = "The image set to train on (ImageSets/Main/<split>.txt).", DefaultValueFactory = _ => "trainval" };
        var backbone = new Option<string>("--backbone") { Description = "small (trains from scratch in minutes) or vgg16.", DefaultValueFactory = _ => "small" };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training images.", DefaultValueFactory = _ => 12 };
        var batch = new Option<int>("--batch-size") { Description = "Images per iteration.", DefaultValueFactory = _ => 4 };
        var rate = new Option<float>("--lr") { Description = "Base learning rate (SGD, momentum 0.9; warm-up, then a tenth for the last quarter).", DefaultValueFactory = _ => 0.02f };
        var size = new Option<int>("--image-size") { Description = "Images are scaled so their longer side has this many pixels.", DefaultValueFactory = _ => 224 };
        var anchors = new Option<string?>("--anchor-sizes") { Description = "Anchor sizes in pixels, e.g. 32,64,128 (default: 1/7, 2/7 and 4/7 of --image-size), each at ratios 0.5, 1, 2." };
        var pooler = new Option<string>("--pooler") { Description = "align (RoIAlign) or pool (Caffe's RoI pooling).", DefaultValueFactory = _ => "align" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial weights, sampling and shuffling.", DefaultValueFactory = _ => 1 };
        var display = new Option<int>("--display") { Description = "Log the losses every this many iterations.", DefaultValueFactory = _ => 20 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Score mAP@0.5 on --eval-split every this many epochs (0: never).", DefaultValueFactory = _ => 0 };
        var evalSplit = new Option<string>("--eval-split") { Description = "The image set --eval-every scores.", DefaultValueFactory = _ => "test" };
        var output = new Option<FileInfo>("--output") { Description = "The model file to write (safetensors with the configuration).", Required = true };
        var command = new Command("train", "Train a Faster R-CNN on a VOC-format folder.") { data, split, backbone, epochs, batch, rate, size, anchors, pooler, seed, display, evalEvery, evalSplit, output };
        command.SetAction(r => CommandErrors.Run(() =>
        {
            int imageSize = r.GetValue(size);
            if (imageSize < 32 || imageSize > 2048) throw new ArgumentException($"--image-size must be 32 to 2048, got {imageSize}.");
            var sizes = r.GetValue(anchors) is { } text ? DetectCommand.Numbers(text, "--anchor-sizes") : [imageSize / 7f, imageSize * 2 / 7f, imageSize * 4 / 7f];
            var kind = r.GetValue(pooler) switch
            {
                "align" => RoiPoolerKind.Align,
                "pool" => RoiPoolerKind.Pool,
                var other => throw new ArgumentException($"--pooler must be 'align' or 'pool', got '{other}'."),
            };
            var options = new DetectionTrainingOptions
            {
                Epochs = Positive(r.GetValue(epochs), "--epochs"),
                BatchSize = Positive(r.GetValue(batch), "--batch-size"),
                LearningRate = r.GetValue(rate) is > 0 and var lr ? lr : throw new ArgumentException("--lr must be positive."),
                Seed = r.GetValue(seed),
            };
            return Run(r.GetValue(data)!.FullName, r.GetValue(split)!, r.GetValue(backbone)!, imageSize, sizes, kind, options,
                Positive(r.GetValue(display), "--display"), r.GetValue(output)!.FullName,
                r.GetValue(evalEvery) is >= 0 and var every ? every : throw new ArgumentException("--eval-every must not be negative."), r.GetValue(evalSplit)!);
        }));
        return command;
    }

    private static int Positive(int value, string option) => value > 0 ? value : throw new ArgumentException($"{option} must be positive, got {value}.");

    public static int Run(string root, string split, string backbone, int imageSize, float[] anchorSizes, RoiPoolerKind pooler,
        DetectionTrainingOptions options, int display, string output, int evalEvery = 0, string evalSplit = "test")
    {
        // Ctrl-C or SIGTERM: finish the iteration, write the model, exit 0; a second one quits at once.
        using var signals = new TrainingSignals(SolverAction.Stop, hangup: null);
        // Difficult boxes are left out of training, as py-faster-rcnn does (USE_DIFF = False); scoring ignores them.
        var data = new VocDataset(root, split, useDifficult: false);
        var config = new FasterRcnnConfig
        {
            Backbone = backbone,
            Classes = data.Classes,
            AnchorSizes = anchorSizes,
            ImageSize = imageSize,
            RoiHeads = new RoiHeadsOptions { Pooler = pooler },
        };
        var model = FasterRcnn.Create(config, options.Seed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training a Faster R-CNN ({backbone} backbone, {model.ParameterCount():N0} parameters) on {data.Count} images of {root} ({split}); classes: {string.Join(", ", data.Classes)}; anchors {string.Join("/", anchorSizes)} x ratios 0.5/1/2 (k = {model.Rpn.Head.AnchorsPerLocation})."));
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        var progress = new SynchronousProgress<DetectionProgress>(p =>
        {
            times.Add(p.SecondsPerIteration);
            if (p.Iteration % display == 0 || p.Iteration == p.Iterations) Console.WriteLine(p);
        });
        // The mAP curve: scored on the evaluation split while training goes (outside the iterations' time).
        var evaluation = evalEvery > 0 ? new VocDataset(root, evalSplit, data.Classes) : null;
        DetectionTraining.Train(model, data, options, progress, epoch =>
        {
            string score = "";
            if (evaluation is not null && (epoch % evalEvery == 0 || epoch == options.Epochs))
                score = string.Create(CultureInfo.InvariantCulture, $"; mAP@0.5 on {evalSplit} = {DetectionTraining.Evaluate(model, evaluation).MeanAp:F4}");
            Console.WriteLine($"Epoch {epoch} done ({clock.Elapsed.TotalSeconds:F0} s){score}.");
        }, signals.Stop);
        if (signals.Stop.IsCancellationRequested) Console.WriteLine("Optimization stopped early.");
        DetectorFile.Save(model, output);
        if (times.Count == 0)
        {
            Console.WriteLine($"Stopped before the first iteration. Wrote {output}.");
            return 0;
        }
        times.Sort();
        double median = times[times.Count / 2], trainSeconds = times.Sum();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Trained {times.Count} iterations in {clock.Elapsed.TotalSeconds:F1} s ({trainSeconds:F1} s in the iterations themselves; median {median * 1000:F0} ms per iteration, {options.BatchSize / median:F1} images/s). Wrote {output}."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT backprop seconds_per_iter={median:F4} images_per_s={options.BatchSize / median:F2} train_seconds={trainSeconds:F1}"));
        return 0;
    }
}
