namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Areas of boxes (x1, y1, x2, y2): (x2 − x1)·(y2 − y1), as torchvision's box_area (continuous coordinates, no +1;
    /// an inverted box gets a negative area). boxes: (N, 4); result (N). Differentiable ("BoxAreaBackward").
    /// </summary>
    public static Tensor BoxArea(Tensor boxes)
    {
        int n = CheckBoxes("BoxArea", boxes, nameof(boxes));
        var area = Tensor.Uninitialized(new Shape(n));
        Kernels.Boxes.Area(boxes.Data, area.AsSpan());
        return Tensor.Record(area, "BoxAreaBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(boxes.Shape);
            var b = boxes.Data;
            var g = dy.Data;
            var d = dx.AsSpan();
            for (int i = 0; i < n; i++)
            {
                float w = b[4 * i + 2] - b[4 * i], h = b[4 * i + 3] - b[4 * i + 1];
                d[4 * i] = -g[i] * h; d[4 * i + 2] = g[i] * h;
                d[4 * i + 1] = -g[i] * w; d[4 * i + 3] = g[i] * w;
            }
            return [dx];
        }, boxes);
    }

    /// <summary>
    /// Intersection over union of every pair of boxes (x1, y1, x2, y2), as torchvision's box_iou:
    /// iou[i, j] = |b1ᵢ ∩ b2ⱼ| / (area(b1ᵢ) + area(b2ⱼ) − |b1ᵢ ∩ b2ⱼ|), continuous coordinates, no +1.
    /// Where the boxes do not overlap (including where the union is 0, and for inverted or NaN boxes) the IoU is 0.
    /// boxes1: (N, 4); boxes2: (M, 4); result (N, M). Not differentiable: records no gradient, as for its use in
    /// matching anchors to ground truth and in NMS.
    /// </summary>
    public static Tensor BoxIou(Tensor boxes1, Tensor boxes2)
    {
        int n = CheckBoxes("BoxIou", boxes1, nameof(boxes1));
        int m = CheckBoxes("BoxIou", boxes2, nameof(boxes2));
        var iou = Tensor.Uninitialized(new Shape(n, m));
        Kernels.Boxes.Iou(boxes1.Data, boxes2.Data, iou.AsSpan());
        return iou;
    }

    /// <summary>
    /// Greedy non-maximum suppression (torchvision's nms): boxes are visited by decreasing score; each box not yet
    /// suppressed is kept and suppresses every later box whose IoU with it (as <see cref="BoxIou"/>) is strictly greater
    /// than <paramref name="iouThreshold"/> (an IoU equal to the threshold survives). Equal scores keep the lower index
    /// first; NaN scores rank below every number (kept last, if at all). boxes: (N, 4) as (x1, y1, x2, y2); scores: (N).
    /// Returns the kept indices by decreasing score; empty for N = 0. Zero-area and inverted boxes overlap nothing.
    /// </summary>
    public static int[] Nms(Tensor boxes, Tensor scores, float iouThreshold)
    {
        int n = CheckBoxes("Nms", boxes, nameof(boxes));
        CheckScores("Nms", scores, n, boxes.Shape);
        CheckThreshold("Nms", iouThreshold);
        return Kernels.Boxes.Nms(boxes.Data, scores.Data, iouThreshold);
    }

    /// <summary>
    /// NMS per group (torchvision's batched_nms, groups being class labels or images): boxes of different groups never
    /// suppress each other; within a group as <see cref="Nms"/>. Returns the kept indices of all groups together, by
    /// decreasing score (equal scores: lower index first; NaN last). boxes: (N, 4); scores: (N); groups: N integers.
    /// </summary>
    public static int[] BatchedNms(Tensor boxes, Tensor scores, int[] groups, float iouThreshold)
    {
        ArgumentNullException.ThrowIfNull(groups);
        int n = CheckBoxes("BatchedNms", boxes, nameof(boxes));
        CheckScores("BatchedNms", scores, n, boxes.Shape);
        if (groups.Length != n)
            throw new ArgumentException($"BatchedNms: {groups.Length} group ids for {n} boxes (boxes {boxes.Shape}).", nameof(groups));
        CheckThreshold("BatchedNms", iouThreshold);
        return Kernels.Boxes.BatchedNms(boxes.Data, scores.Data, groups, iouThreshold);
    }

    /// <summary>
    /// Converts boxes between formats (torchvision's box_convert): (x1, y1, x2, y2), (x1, y1, w, h) with x2 = x1 + w, and
    /// (cx, cy, w, h) with x1 = cx − w/2, x2 = cx + w/2 (likewise y). Each output coordinate is one linear formula in the
    /// inputs (e.g. xywh → cxcywh is cx = x + w/2), so the gradient ("BoxConvertBackward") is its transpose.
    /// boxes: (N, 4); result (N, 4), a copy even when the formats are the same.
    /// </summary>
    public static Tensor BoxConvert(Tensor boxes, BoxFormat from, BoxFormat to)
    {
        int n = CheckBoxes("BoxConvert", boxes, nameof(boxes));
        // Per axis, the pair (coordinate 0, 2) for x and (1, 3) for y maps by a 2x2 matrix A = FromXyXy(to) · ToXyXy(from).
        var a = Multiply(FromXyXy(to), ToXyXy(from));
        var y = Tensor.Uninitialized(boxes.Shape);
        Apply(a, boxes.Data, y.AsSpan(), n, transpose: false);
        return Tensor.Record(y, "BoxConvertBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(boxes.Shape);
            Apply(a, dy.Data, dx.AsSpan(), n, transpose: true);
            return [dx];
        }, boxes);
    }

    /// <summary>
    /// Clamps boxes (x1, y1, x2, y2) to the image (torchvision's clip_boxes_to_image): x to [0, width], y to [0, height].
    /// NaN stays NaN. boxes: (N, 4); result (N, 4). The gradient ("ClipBoxesToImageBackward") passes where a coordinate
    /// lies inside its range, bounds included (as torch.clamp), and is 0 where it was clamped.
    /// </summary>
    public static Tensor ClipBoxesToImage(Tensor boxes, int height, int width)
    {
        int n = CheckBoxes("ClipBoxesToImage", boxes, nameof(boxes));
        if (height < 0 || width < 0)
            throw new ArgumentException($"ClipBoxesToImage: image size must be non-negative, got height {height}, width {width}.");
        var y = Tensor.Uninitialized(boxes.Shape);
        var b = boxes.Data;
        var d = y.AsSpan();
        for (int i = 0; i < 4 * n; i++)
        {
            float hi = (i & 1) == 0 ? width : height;   // x at even coordinates, y at odd
            float v = b[i];
            d[i] = v < 0 ? 0 : v > hi ? hi : v;
        }
        return Tensor.Record(y, "ClipBoxesToImageBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(boxes.Shape);
            var x = boxes.Data;
            var g = dy.Data;
            var o = dx.AsSpan();
            for (int i = 0; i < 4 * n; i++)
            {
                float hi = (i & 1) == 0 ? width : height;
                o[i] = x[i] >= 0 && x[i] <= hi ? g[i] : 0f;
            }
            return [dx];
        }, boxes);
    }

    /// <summary>
    /// Indices (increasing) of boxes (x1, y1, x2, y2) with width x2 − x1 ≥ <paramref name="minSize"/> and height
    /// y2 − y1 ≥ <paramref name="minSize"/> (torchvision's remove_small_boxes; boxes with NaN sides are removed).
    /// </summary>
    public static int[] RemoveSmallBoxes(Tensor boxes, float minSize)
    {
        int n = CheckBoxes("RemoveSmallBoxes", boxes, nameof(boxes));
        var b = boxes.Data;
        var keep = new List<int>(n);
        for (int i = 0; i < n; i++)
            if (b[4 * i + 2] - b[4 * i] >= minSize && b[4 * i + 3] - b[4 * i + 1] >= minSize) keep.Add(i);
        return keep.ToArray();
    }

    private static int CheckBoxes(string op, Tensor boxes, string name)
    {
        ArgumentNullException.ThrowIfNull(boxes, name);
        if (boxes.Rank != 2 || boxes.Shape[1] != 4)
            throw new ArgumentException($"{op} expects {name} of shape (N, 4), got {boxes.Shape}.", name);
        return boxes.Shape[0];
    }

    private static void CheckScores(string op, Tensor scores, int n, Shape boxesShape)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Rank != 1 || scores.Shape[0] != n)
            throw new ArgumentException($"{op} expects scores of shape ({n},) for boxes {boxesShape}, got {scores.Shape}.", nameof(scores));
    }

    private static void CheckThreshold(string op, float iouThreshold)
    {
        if (float.IsNaN(iouThreshold)) throw new ArgumentException($"{op}: the IoU threshold is NaN.", nameof(iouThreshold));
    }

    // 2x2 matrices as (a00, a01, a10, a11), acting on (p, q) = (x1, x2), (x, w) or (cx, w) per axis.
    private static (float, float, float, float) ToXyXy(BoxFormat f) => f switch
    {
        BoxFormat.XyXy => (1, 0, 0, 1),
        BoxFormat.XyWh => (1, 0, 1, 1),          // x1 = x, x2 = x + w
        BoxFormat.CxCyWh => (1, -0.5f, 1, 0.5f), // x1 = cx − w/2, x2 = cx + w/2
        _ => throw new ArgumentException($"Unknown box format {f}.", nameof(f)),
    };

    private static (float, float, float, float) FromXyXy(BoxFormat f) => f switch
    {
        BoxFormat.XyXy => (1, 0, 0, 1),
        BoxFormat.XyWh => (1, 0, -1, 1),         // x = x1, w = x2 − x1
        BoxFormat.CxCyWh => (0.5f, 0.5f, -1, 1), // cx = (x1 + x2)/2, w = x2 − x1
        _ => throw new ArgumentException($"Unknown box format {f}.", nameof(f)),
    };

    private static (float, float, float, float) Multiply((float, float, float, float) l, (float, float, float, float) r) =>
        (l.Item1 * r.Item1 + l.Item2 * r.Item3, l.Item1 * r.Item2 + l.Item2 * r.Item4,
         l.Item3 * r.Item1 + l.Item4 * r.Item3, l.Item3 * r.Item2 + l.Item4 * r.Item4);

    private static void Apply((float A00, float A01, float A10, float A11) a, ReadOnlySpan<float> src, Span<float> dst, int n, bool transpose)   // src, dst: (N, 4)
    {
        var (m00, m01, m10, m11) = transpose ? (a.A00, a.A10, a.A01, a.A11) : a;
        for (int i = 0; i < n; i++)
            for (int axis = 0; axis < 2; axis++)
            {
                float p = src[4 * i + axis], q = src[4 * i + axis + 2];
                dst[4 * i + axis] = Combine(m00, p, m01, q);
                dst[4 * i + axis + 2] = Combine(m10, p, m11, q);
            }
    }

    // Skips zero coefficients so that an infinite coordinate does not turn an unrelated output into NaN (0·∞).
    private static float Combine(float a, float p, float b, float q) => a == 0 ? b * q : b == 0 ? a * p : a * p + b * q;
}
