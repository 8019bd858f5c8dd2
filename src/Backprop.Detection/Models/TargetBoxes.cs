namespace Backprop.Detection;

/// <summary>
/// Ground truth the losses can learn from: boxes clipped to the image, and boxes with no area left (zero width or height,
/// or wholly outside the image) dropped. A degenerate box would otherwise match anchors at IoU 0 and give an infinite
/// regression target (log of a zero width).
/// </summary>
internal static class TargetBoxes
{
    public static DetectionTarget Usable(DetectionTarget target, (int Height, int Width) imageSize)
    {
        var clipped = Functional.ClipBoxesToImage(target.Boxes, imageSize.Height, imageSize.Width);
        var b = clipped.ToArray();
        var keep = new List<int>();
        for (int i = 0; i < target.Count; i++)
            if (b[4 * i + 2] - b[4 * i] > 0 && b[4 * i + 3] - b[4 * i + 1] > 0) keep.Add(i);   // false for NaN too
        if (keep.Count == target.Count) return new DetectionTarget(clipped, target.Labels, target.Difficult);
        int[] k = [.. keep];
        return new DetectionTarget(clipped.IndexSelect(0, k), k.Select(i => target.Labels[i]).ToArray(), k.Select(i => target.Difficult[i]).ToArray());
    }
}
