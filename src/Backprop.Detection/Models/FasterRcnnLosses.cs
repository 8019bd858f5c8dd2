namespace Backprop.Detection;

/// <summary>The four losses of a Faster R-CNN training step, and their sum to backpropagate.</summary>
public sealed record FasterRcnnLosses(Tensor RpnObjectness, Tensor RpnBox, Tensor Classifier, Tensor BoxRegression)
{
    /// <summary>RPN objectness + RPN box + classifier + box regression (equal weights, as torchvision and py-faster-rcnn).</summary>
    public Tensor Total => RpnObjectness + RpnBox + Classifier + BoxRegression;

    public override string ToString() =>
        $"rpn_cls = {RpnObjectness.Item():F4}, rpn_box = {RpnBox.Item():F4}, cls = {Classifier.Item():F4}, box = {BoxRegression.Item():F4}";
}
