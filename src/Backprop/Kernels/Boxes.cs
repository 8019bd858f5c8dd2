using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// Box geometry on spans (torchvision.ops' box_area, box_iou, nms, batched_nms). A box is four floats
/// (x1, y1, x2, y2), continuous coordinates with no +1 on widths. N, M: numbers of boxes.
/// </summary>
internal static class Boxes
{
    /// <summary>area[i] = (x2 − x1)·(y2 − y1), negative for an inverted box (as torchvision: no clamping).</summary>
    internal static void Area(ReadOnlySpan<float> boxes, Span<float> area)   // boxes: (N, 4), area: (N)
    {
        for (int i = 0; i < area.Length; i++)
            area[i] = (boxes[4 * i + 2] - boxes[4 * i]) * (boxes[4 * i + 3] - boxes[4 * i + 1]);
    }

    /// <summary>
    /// iou[i, j] = inter / (area1[i] + area2[j] − inter), inter the area of the intersection (0 where the boxes do not
    /// overlap). Where inter is 0 (this covers a union of 0 and every inverted or NaN box) the IoU is 0.
    /// </summary>
    internal static void Iou(ReadOnlySpan<float> boxes1, ReadOnlySpan<float> boxes2, Span<float> iou)   // boxes1: (N, 4), boxes2: (M, 4), iou: (N, M)
    {
        int n = boxes1.Length / 4, m = boxes2.Length / 4;
        if (n == 0 || m == 0) return;
        var area2 = new float[m];
        Area(boxes2, area2);
        for (int i = 0; i < n; i++)
        {
            float x1 = boxes1[4 * i], y1 = boxes1[4 * i + 1], x2 = boxes1[4 * i + 2], y2 = boxes1[4 * i + 3];
            float area1 = (x2 - x1) * (y2 - y1);
            var row = iou.Slice(i * m, m);
            for (int j = 0; j < m; j++)
                row[j] = PairIou(x1, y1, x2, y2, area1, boxes2[4 * j], boxes2[4 * j + 1], boxes2[4 * j + 2], boxes2[4 * j + 3], area2[j]);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static float PairIou(float ax1, float ay1, float ax2, float ay2, float areaA, float bx1, float by1, float bx2, float by2, float areaB)
    {
        float w = MathF.Min(ax2, bx2) - MathF.Max(ax1, bx1);
        float h = MathF.Min(ay2, by2) - MathF.Max(ay1, by1);
        // inter > 0 needs both boxes upright with positive area, so then the union is at least the larger area (> 0).
        float inter = (w > 0 ? w : 0) * (h > 0 ? h : 0);
        return inter > 0 ? inter / (areaA + areaB - inter) : 0f;
    }

    /// <summary>
    /// Positions 0..N−1 ordered by decreasing score; equal scores keep the lower position first (stable); NaN scores
    /// come last (below −∞), in position order. −0 and +0 are equal.
    /// </summary>
    internal static int[] OrderByScoreDescending(ReadOnlySpan<float> scores)   // scores: (N)
    {
        int n = scores.Length;
        // One ulong per box: the high half orders scores descending, the low half is the position (the tie-break).
        var keys = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            float s = scores[i] + 0f;   // −0 + 0 = +0
            uint bits = BitConverter.SingleToUInt32Bits(s);
            uint ascending = float.IsNaN(s) ? 0u : (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
            keys[i] = ((ulong)~ascending << 32) | (uint)i;
        }
        Array.Sort(keys);
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = (int)(uint)keys[i];
        return order;
    }

    /// <summary>
    /// Greedy non-maximum suppression over the boxes at <paramref name="order"/> (already by decreasing score): the first
    /// box is kept, every later box whose IoU with it is strictly greater than <paramref name="iouThreshold"/> is dropped,
    /// and so on down the survivors. Writes the kept ranks (positions in <paramref name="order"/>, increasing) to
    /// <paramref name="keptRanks"/> and returns how many. O(N) memory, O(N·K) time for K kept; the IoU of each kept box
    /// against the boxes after it is computed 8 at a time where the CPU has 256-bit vectors.
    /// </summary>
    internal static int NmsOrdered(ReadOnlySpan<float> boxes, ReadOnlySpan<int> order, float iouThreshold, Span<int> keptRanks) =>   // boxes: (N, 4)
        SimdWidth.Allows256(SimdWidth.Max) && order.Length >= 2 * Vector256<float>.Count
            ? NmsOrderedVector256(boxes, order, iouThreshold, keptRanks)
            : NmsOrderedReference(boxes, order, iouThreshold, keptRanks);

    /// <summary>
    /// The plain-loop NMS (the definition): survivors are compacted after each kept box, so each pass reads only boxes
    /// still alive, contiguously.
    /// </summary>
    internal static int NmsOrderedReference(ReadOnlySpan<float> boxes, ReadOnlySpan<int> order, float iouThreshold, Span<int> keptRanks)   // boxes: (N, 4)
    {
        int n = order.Length;
        if (n == 0) return 0;
        var (x1, y1, x2, y2, area) = Gather(boxes, order, n);
        var rank = new int[n];
        for (int r = 0; r < n; r++) rank[r] = r;
        int kept = 0, alive = n;
        for (int head = 0; head < alive; head++)
        {
            keptRanks[kept++] = rank[head];
            float kx1 = x1[head], ky1 = y1[head], kx2 = x2[head], ky2 = y2[head], karea = area[head];
            int write = head + 1;
            for (int j = head + 1; j < alive; j++)
            {
                float iou = PairIou(kx1, ky1, kx2, ky2, karea, x1[j], y1[j], x2[j], y2[j], area[j]);
                if (iou > iouThreshold) continue;
                x1[write] = x1[j]; y1[write] = y1[j]; x2[write] = x2[j]; y2[write] = y2[j];
                area[write] = area[j]; rank[write] = rank[j];
                write++;
            }
            alive = write;
        }
        return kept;
    }

    /// <summary>
    /// NMS with a suppression mask: for each kept box, the IoU against all later boxes 8 at a time, OR-ed into the mask;
    /// the next kept box is the next unmasked one. Decides exactly as <see cref="NmsOrderedReference"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static int NmsOrderedVector256(ReadOnlySpan<float> boxes, ReadOnlySpan<int> order, float iouThreshold, Span<int> keptRanks)   // boxes: (N, 4)
    {
        const int W = 8;
        int n = order.Length;
        var (x1, y1, x2, y2, area) = Gather(boxes, order, (n + W - 1) / W * W);   // padding boxes are empty: IoU 0
        var suppressed = new int[x1.Length];   // all ones where suppressed
        var zero = Vector256<float>.Zero;
        var threshold = Vector256.Create(iouThreshold);
        int kept = 0, end = n;
        for (int head = 0; head < end; head++)
        {
            if (suppressed[head] != 0) continue;
            keptRanks[kept++] = head;
            var kx1 = Vector256.Create(x1[head]); var ky1 = Vector256.Create(y1[head]);
            var kx2 = Vector256.Create(x2[head]); var ky2 = Vector256.Create(y2[head]);
            var karea = Vector256.Create(area[head]);
            // Whole vectors from the one holding head + 1; marking boxes at or before head changes nothing (they are decided).
            for (int j = (head + 1) / W * W; j < end; j += W)
            {
                var w = Vector256.Min(kx2, Vector256.Create<float>(x2.AsSpan(j, W))) - Vector256.Max(kx1, Vector256.Create<float>(x1.AsSpan(j, W)));
                var h = Vector256.Min(ky2, Vector256.Create<float>(y2.AsSpan(j, W))) - Vector256.Max(ky1, Vector256.Create<float>(y1.AsSpan(j, W)));
                // As PairIou: a side that is not > 0 (NaN included) counts 0, and inter = 0 gives IoU 0.
                var inter = Vector256.ConditionalSelect(Vector256.GreaterThan(w, zero), w, zero)
                    * Vector256.ConditionalSelect(Vector256.GreaterThan(h, zero), h, zero);
                var union = karea + Vector256.Create<float>(area.AsSpan(j, W)) - inter;
                var iou = Vector256.ConditionalSelect(Vector256.GreaterThan(inter, zero), inter / union, zero);
                var mask = Vector256.GreaterThan(iou, threshold).AsInt32();
                (Vector256.Create<int>(suppressed.AsSpan(j, W)) | mask).CopyTo(suppressed.AsSpan(j, W));
            }
            while (end > head + 1 && suppressed[end - 1] != 0) end--;   // trailing suppressed boxes need no more passes
        }
        return kept;
    }

    /// <summary>
    /// Coordinates and areas of the boxes at <paramref name="order"/>, as separate arrays of <paramref name="length"/>
    /// (≥ order.Length; the rest are empty boxes). A box with a NaN coordinate becomes the empty box (0, 0, 0, 0): it
    /// overlaps nothing either way, and vector min/max need not treat NaN as scalar MathF.Min/Max do.
    /// </summary>
    private static (float[] X1, float[] Y1, float[] X2, float[] Y2, float[] Area) Gather(ReadOnlySpan<float> boxes, ReadOnlySpan<int> order, int length)   // boxes: (N, 4)
    {
        var x1 = new float[length]; var y1 = new float[length]; var x2 = new float[length]; var y2 = new float[length];
        var area = new float[length];
        for (int r = 0; r < order.Length; r++)
        {
            int b = 4 * order[r];
            float a = boxes[b], c = boxes[b + 1], e = boxes[b + 2], f = boxes[b + 3];
            if (float.IsNaN(a) || float.IsNaN(c) || float.IsNaN(e) || float.IsNaN(f)) continue;
            x1[r] = a; y1[r] = c; x2[r] = e; y2[r] = f;
            area[r] = (e - a) * (f - c);
        }
        return (x1, y1, x2, y2, area);
    }

    /// <summary>NMS over all boxes: the kept positions by decreasing score (ties: lower position first).</summary>
    internal static int[] Nms(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, float iouThreshold)   // boxes: (N, 4), scores: (N)
    {
        int[] order = OrderByScoreDescending(scores);
        var ranks = new int[order.Length];
        int kept = NmsOrdered(boxes, order, iouThreshold, ranks);
        var keep = new int[kept];
        for (int k = 0; k < kept; k++) keep[k] = order[ranks[k]];
        return keep;
    }

    /// <summary>
    /// NMS within each group separately (boxes of different groups never suppress each other); the kept positions of
    /// all groups merged by decreasing score (ties: lower position first).
    /// </summary>
    internal static int[] BatchedNms(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, ReadOnlySpan<int> groups, float iouThreshold)   // boxes: (N, 4), scores, groups: (N)
    {
        int n = scores.Length;
        int[] order = OrderByScoreDescending(scores);
        // Sort ranks by (group, rank): each group becomes a run that is still in score order.
        var byGroup = new long[n];
        for (int r = 0; r < n; r++) byGroup[r] = ((long)groups[order[r]] << 32) | (uint)r;
        Array.Sort(byGroup);
        var runOrder = new int[n];
        var runRanks = new int[n];
        var keptRanks = new List<int>();
        for (int start = 0; start < n;)
        {
            int group = (int)(byGroup[start] >> 32), end = start;
            while (end < n && (int)(byGroup[end] >> 32) == group) end++;
            for (int i = start; i < end; i++) runOrder[i - start] = order[(int)(uint)byGroup[i]];
            int kept = NmsOrdered(boxes, runOrder.AsSpan(0, end - start), iouThreshold, runRanks);
            for (int k = 0; k < kept; k++) keptRanks.Add((int)(uint)byGroup[start + runRanks[k]]);
            start = end;
        }
        keptRanks.Sort();   // global ranks: decreasing score, ties by position
        var keep = new int[keptRanks.Count];
        for (int k = 0; k < keep.Length; k++) keep[k] = order[keptRanks[k]];
        return keep;
    }
}
