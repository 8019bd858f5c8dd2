namespace Backprop.Detection;

/// <summary>
/// How both stages label boxes before sampling — the RPN its anchors, the RoI heads their proposals: each box is
/// matched to the usable ground truth (boxes clipped to the image, empty ones dropped) by IoU, object when matched,
/// background below the matcher's low threshold, ignored in between.
/// </summary>
public static class BoxLabeling
{
    /// <summary>Labels per box (1 object, 0 background, −1 ignored), the index of each box's matched ground truth in
    /// <c>Truth</c> (negative when none), and the usable ground truth itself.</summary>
    public static (int[] Labels, int[] Matches, DetectionTarget Truth) Label(Tensor boxes, DetectionTarget target,
        (int Height, int Width) imageSize, Matcher matcher)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(matcher);
        var truth = TargetBoxes.Usable(target, imageSize);
        int count = boxes.Shape[0];
        int[] matches = truth.Count == 0 ? Enumerable.Repeat(Matcher.BelowLowThreshold, count).ToArray()
            : matcher.Match(Functional.BoxIou(truth.Boxes, boxes));
        var labels = new int[count];
        for (int a = 0; a < count; a++)
            labels[a] = matches[a] >= 0 ? 1 : matches[a] == Matcher.BelowLowThreshold ? 0 : -1;
        return (labels, matches, truth);
    }
}
