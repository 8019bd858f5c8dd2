using System.CommandLine;
using Backprop.Caffe.Proto;
using Backprop.Viz;

namespace Backprop.Cli;

/// <summary><c>backprop summary --model M</c>: Keras's model.summary() table for a Caffe net, a saved Keras model or an ONNX graph.</summary>
public static class SummaryCommand
{
    internal static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The net prototxt, or a saved Keras model (.keras, .h5, .safetensors from Save; Sequential or functional), or an ONNX graph (.onnx).", Required = true };
        var phase = new Option<string>("--phase") { Description = "Which net: TRAIN or TEST.", DefaultValueFactory = _ => "TRAIN" };
        var inputShape = VizArguments.InputShape();
        var command = new Command("summary", "Print a Keras-style table of a net's layers, output shapes and parameter counts.") { model, phase, inputShape };
        command.SetAction(r => CommandErrors.Run(() => Run(r.GetValue(model)!.FullName, VizArguments.ParsePhase(r.GetValue(phase)!),
            VizArguments.ParseShape(r.GetValue(inputShape)))));
        return command;
    }

    public static int Run(string modelPath, Phase phase = Phase.Train, IReadOnlyList<int>? inputShape = null)
    {
        if (OnnxSummary.IsOnnx(modelPath))
            return OnnxSummary.Print(modelPath, inputShape);
        if (!KerasModels.IsPrototxt(modelPath))
        {
            KerasModels.Load(modelPath).PrintSummary();   // prints, as Keras's summary()
            return 0;
        }
        var net = CaffeInspection.Build(CaffeInspection.ReadNet(modelPath), phase, inputShape, Path.GetDirectoryName(modelPath));
        Console.Write(ModelSummary.Of(net).ToString());
        return 0;
    }
}
