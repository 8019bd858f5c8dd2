using Backprop.Keras;

namespace Backprop.Viz;

/// <summary>
/// A Keras callback that records each epoch's loss and metrics and, when training ends, writes the CSV log
/// and the PNG plot of <see cref="TrainingCurves"/> (against the epoch): <c>model.Fit(..., callbacks: [new TrainingCurvesCallback("run")])</c>
/// writes <c>run_log.csv</c> and <c>run_curves.png</c>.
/// </summary>
public sealed class TrainingCurvesCallback(string pathPrefix) : Callback
{
    private int stepsSoFar;

    /// <summary>The curves recorded so far (iteration = epochs completed).</summary>
    public TrainingCurves Curves { get; } = new() { Title = $"Fit: {Path.GetFileName(pathPrefix)}" };

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        stepsSoFar = epoch + 1;
        foreach (var (name, value) in logs)
        {
            if (name == "loss") Curves.AddLoss(stepsSoFar, stepsSoFar, value);
            else Curves.AddMetric(name, stepsSoFar, stepsSoFar, value);
        }
    }

    public override void OnTrainEnd(IReadOnlyDictionary<string, double> logs)
    {
        if (Curves.Loss.Count == 0) return;
        Curves.SaveCsv(pathPrefix + "_log.csv");
        Curves.SavePng(pathPrefix + "_curves.png", CurveAxis.Epoch);
    }
}
