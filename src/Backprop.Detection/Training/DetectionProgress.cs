namespace Backprop.Detection;

/// <summary>One training iteration's report: where training is, its four losses, and its speed.</summary>
public sealed record DetectionProgress(int Iteration, int Iterations, double Epoch, float LearningRate,
    float RpnObjectness, float RpnBox, float Classifier, float BoxRegression, double SecondsPerIteration, double ImagesPerSecond)
{
    public float Total => RpnObjectness + RpnBox + Classifier + BoxRegression;

    public override string ToString() => FormattableString.Invariant(
        $"Iteration {Iteration} (epoch {Epoch:F2}), loss = {Total:F4} (rpn_cls {RpnObjectness:F4}, rpn_box {RpnBox:F4}, cls {Classifier:F4}, box {BoxRegression:F4}), lr = {LearningRate:G3}, {SecondsPerIteration * 1000:F0} ms/iter, {ImagesPerSecond:F1} images/s");
}
