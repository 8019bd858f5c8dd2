namespace Backprop.Detection;

/// <summary>
/// VOC AP per class (<see cref="ClassAp"/>[k] is label k + 1's; NaN for a class with no non-difficult ground truth),
/// the number of non-difficult ground-truth boxes per class, and <see cref="MeanAp"/> over the classes that have any.
/// </summary>
public sealed record VocResult(IReadOnlyList<double> ClassAp, IReadOnlyList<int> Positives, double MeanAp)
{
    public override string ToString() =>
        $"mAP {MeanAp:F4} (" + string.Join(", ", ClassAp.Select((ap, k) => $"{k + 1}: {ap:F4}")) + ")";
}
