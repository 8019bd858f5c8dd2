using Backprop.Detection;

namespace Backprop.Caffe.Layers;

/// <summary>
/// py-faster-rcnn's box arithmetic. Its boxes are inclusive pixel ranges: width x2 − x1 + 1. Moving x2 and y2 one
/// pixel out turns such a box into the continuous box of the same width, so IoU (bbox_overlaps), NMS and the target
/// coding (bbox_transform) are the core's continuous ones applied to the moved boxes.
/// </summary>
internal static class PyFasterRcnnBoxes
{
    // No clamp on dw, dh: py-faster-rcnn's bbox_transform_inv has none.
    private static readonly BoxCoder Coder = new((1f, 1f, 1f, 1f), float.PositiveInfinity);

    /// <summary>(N, 4) inclusive boxes as (N, 4) continuous boxes.</summary>
    public static Tensor Continuous(ReadOnlySpan<float> boxes, int count, int stride = 4, int offset = 0)
    {
        var result = new float[count * 4];
        for (int i = 0; i < count; i++)
        {
            int s = i * stride + offset;
            result[4 * i] = boxes[s];
            result[4 * i + 1] = boxes[s + 1];
            result[4 * i + 2] = boxes[s + 2] + 1;
            result[4 * i + 3] = boxes[s + 3] + 1;
        }
        return Tensor.FromArray(result, count, 4);
    }

    /// <summary>bbox_overlaps: (N, M) IoU of inclusive boxes.</summary>
    public static Tensor Overlaps(Tensor a, Tensor b) => Functional.BoxIou(a, b);

    /// <summary>bbox_transform: targets (dx, dy, dw, dh) from each box to its ground truth (both continuous, as <see cref="Continuous"/>).</summary>
    public static float[] Transform(Tensor boxes, Tensor groundTruth) => Coder.Encode(groundTruth, boxes).ToArray();

    /// <summary>bbox_transform_inv: boxes (continuous anchors) moved by deltas; returns py-faster-rcnn's (x1, y1, x2, y2) = centre ∓ size/2.</summary>
    public static float[] Apply(Tensor boxes, Tensor deltas) => Coder.Decode(deltas, boxes).ToArray();

    /// <summary>Greedy NMS of inclusive boxes (suppressing IoU above the threshold), indices by decreasing score.</summary>
    public static int[] Nms(Tensor continuousBoxes, Tensor scores, float threshold) => Functional.Nms(continuousBoxes, scores, threshold);
}
