using System.Diagnostics;
using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;
using F = Backprop.Functional;

namespace Backprop.Tests.FunctionalOps;

public partial class BoxOpsTests(ITestOutputHelper output)
{
    private static Tensor Boxes(params float[] xyxy) => Tensor.FromArray(xyxy, xyxy.Length / 4, 4);

    [Fact]
    public void BoxIouMatchesTorchvision()
    {
        var iou = F.BoxIou(Boxes(IouBoxes1), Boxes(IouBoxes2));
        Assert.Equal(new Shape(12, 9), iou.Shape);
        Assert.Contains(IouExpected, v => v > 0.1f);   // the fixture has real overlaps, not only zeros
        AssertClose(IouExpected, iou.ToArray(), 1e-6, "box_iou");
    }

    [Fact]
    public void BoxIouByHand()
    {
        var a = Boxes(0, 0, 2, 2, /* zero width */ 1, 1, 1, 3, /* inverted */ 3, 3, 1, 1);
        var b = Boxes(1, 1, 3, 3, 0, 0, 2, 2, 2, 0, 4, 2, 1, 1, 1, 3);
        float[] iou = F.BoxIou(a, b).ToArray();
        // Overlap 1 of union 4 + 4 − 1; identical 1; touching at an edge 0; a zero-width box overlaps nothing, even itself
        // (union 0); an inverted box overlaps nothing.
        Assert.Equal(new[] { 1f / 7f, 1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f }, iou);
        Assert.Equal(new Shape(0, 4), F.BoxIou(Boxes(), b).Shape);
        Assert.Equal(new Shape(3, 0), F.BoxIou(a, Boxes()).Shape);
    }

    [Fact]
    public void BoxIouRecordsNoGradient()
    {
        var a = Boxes(0, 0, 2, 2);
        a.RequiresGrad = true;
        Assert.Null(F.BoxIou(a, a).GradFn);
    }

    [Fact]
    public void BoxShapeErrorsSayWhat()
    {
        var e = Assert.Throws<ArgumentException>(() => F.BoxIou(Tensor.Zeros(3, 5), Boxes(0, 0, 1, 1)));
        Assert.Contains("boxes1 of shape (N, 4), got (3, 5)", e.Message);
        var s = Assert.Throws<ArgumentException>(() => F.Nms(Boxes(0, 0, 1, 1, 0, 0, 2, 2), Tensor.Zeros(3), 0.5f));
        Assert.Contains("scores of shape (2,)", s.Message);
        var g = Assert.Throws<ArgumentException>(() => F.BatchedNms(Boxes(0, 0, 1, 1), Tensor.Zeros(1), [0, 1], 0.5f));
        Assert.Contains("2 group ids for 1 boxes", g.Message);
        Assert.Throws<ArgumentException>(() => F.Nms(Boxes(0, 0, 1, 1), Tensor.Zeros(1), float.NaN));
    }

    [Fact]
    public void BoxAreaByHandAndGradient()
    {
        var area = F.BoxArea(Boxes(0, 0, 2, 3, 1, 1, 1, 5, 2, 2, 1, 0));
        Assert.Equal(new[] { 6f, 0f, 2f }, area.ToArray());   // the inverted box: (−1)·(−2)
        var b = Leaf(new Generator(3), 5, 4);
        GradientCheck.Check(xs => F.BoxArea(xs[0]), [b], output, "box area", ["boxes"]);
    }

    [Theory]
    [InlineData(0.3f)]
    [InlineData(0.5f)]
    [InlineData(0.7f)]
    public void NmsMatchesTorchvision(float threshold)
    {
        int[] expected = threshold switch { 0.3f => NmsKeep03, 0.5f => NmsKeep05, _ => NmsKeep07 };
        Assert.Equal(expected, F.Nms(Boxes(NmsBoxes), Tensor.FromArray(NmsScores), threshold));
    }

    [Fact]
    public void BatchedNmsMatchesTorchvision()
    {
        Assert.Equal(BatchedKeep05, F.BatchedNms(Boxes(NmsBoxes), Tensor.FromArray(NmsScores), BatchedGroups, 0.5f));
        // One group for all is plain NMS.
        Assert.Equal(NmsKeep05, F.BatchedNms(Boxes(NmsBoxes), Tensor.FromArray(NmsScores), new int[80], 0.5f));
    }

    [Fact]
    public void NmsKeepsIouEqualToThreshold()
    {
        // IoU of box 1 with box 0 is exactly 1/2 (overlap 1, union 2); box 2 overlaps box 0 with IoU 2/3.
        var boxes = Boxes(0, 0, 2, 1, 0, 0, 1, 1, 0, 0, 3, 1);
        var scores = Tensor.FromArray([0.9f, 0.8f, 0.7f]);
        Assert.Equal(new[] { 0, 1 }, F.Nms(boxes, scores, 0.5f));
        Assert.Equal(new[] { 0 }, F.Nms(boxes, scores, 0.49f));
        Assert.Equal(new[] { 0, 1, 2 }, F.Nms(boxes, scores, 2f / 3f));
    }

    [Fact]
    public void NmsTiesKeepLowerIndexFirst()
    {
        // Boxes 1 and 3 are identical with equal scores: 1 comes first and suppresses 3; 0 and 2 are far away.
        var boxes = Boxes(10, 10, 11, 11, 0, 0, 2, 2, 20, 20, 22, 22, 0, 0, 2, 2);
        Assert.Equal(new[] { 1, 2, 0 }, F.Nms(boxes, Tensor.FromArray([0.5f, 0.9f, 0.9f, 0.9f]), 0.5f));
    }

    [Fact]
    public void NmsDegenerateBoxesAndNaNScores()
    {
        // Zero-area and inverted boxes overlap nothing, so nothing suppresses them; NaN scores come last, in index order.
        var boxes = Boxes(0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 1, 1, 0, 0, 4, 4, 0, 0, 4, 4, 1, 1, 1, 9);
        var scores = Tensor.FromArray([0.1f, float.NaN, 0.3f, float.NaN, 0.2f, float.NegativeInfinity]);
        Assert.Equal(new[] { 2, 4, 0, 5, 1 }, F.Nms(boxes, scores, 0.5f));
        // NaN coordinates neither crash nor suppress.
        var nan = Boxes(0, 0, 4, 4, float.NaN, 0, 4, 4);
        Assert.Equal(new[] { 0, 1 }, F.Nms(nan, Tensor.FromArray([1f, 0.5f]), 0.1f));
    }

    [Fact]
    public void EmptyInputsGiveEmptyResults()
    {
        Assert.Empty(F.Nms(Boxes(), Tensor.Zeros(0), 0.5f));
        Assert.Empty(F.BatchedNms(Boxes(), Tensor.Zeros(0), [], 0.5f));
        Assert.Empty(F.RemoveSmallBoxes(Boxes(), 1f));
        Assert.Equal(new Shape(0), F.BoxArea(Boxes()).Shape);
        Assert.Equal(new Shape(0, 4), F.BoxConvert(Boxes(), BoxFormat.XyXy, BoxFormat.CxCyWh).Shape);
    }

    [Fact]
    public void BatchedNmsGroupsNeverSuppressEachOther()
    {
        // Identical boxes: within group 7 only the best survives; group −2's copy survives too; sorted by score overall.
        var boxes = Boxes(0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2);
        var scores = Tensor.FromArray([0.4f, 0.9f, 0.6f, 0.8f]);
        Assert.Equal(new[] { 1, 2 }, F.BatchedNms(boxes, scores, [7, 7, -2, 7], 0.5f));
    }

    [Fact]
    public void NmsMatchesPlainDefinitionOnManyBoxes()
    {
        // Scores rounded to 1/16 make many ties; a few NaN scores; the definition: visit by score (stable, NaN last),
        // suppress later boxes with IoU > threshold.
        var g = new Generator(11);
        var (boxes, scores) = RpnLikeBoxes(g, 3000);
        var s = scores.AsSpan();
        for (int i = 0; i < s.Length; i++) s[i] = i % 97 == 5 ? float.NaN : MathF.Round(s[i] * 16) / 16;
        int[] groups = new int[3000];
        for (int i = 0; i < groups.Length; i++) groups[i] = (i * 7) % 5;
        foreach (float t in new[] { 0.3f, 0.7f })
        {
            Assert.Equal(ReferenceNms(boxes, scores, t, null), F.Nms(boxes, scores, t));
            Assert.Equal(ReferenceNms(boxes, scores, t, groups), F.BatchedNms(boxes, scores, groups, t));
        }
    }

    [Fact]
    public void NmsOnRpnSizedInputIsFast()
    {
        var (boxes, scores) = RpnLikeBoxes(new Generator(12), 12000);
        F.Nms(boxes, scores, 0.7f);   // warm up
        var clock = Stopwatch.StartNew();
        int kept = F.Nms(boxes, scores, 0.7f).Length;
        double ms = clock.Elapsed.TotalMilliseconds;
        output.WriteLine($"NMS of 12000 boxes at IoU 0.7: kept {kept} in {ms:F1} ms");
        Assert.InRange(kept, 100, 11999);
        Assert.True(ms < 2000, $"NMS of 12000 boxes took {ms:F0} ms");
    }

    // Boxes of an image 600x1000 with anchors of sides 16..512, scores uniform in [0, 1).
    private static (Tensor Boxes, Tensor Scores) RpnLikeBoxes(Generator g, int n)
    {
        var c = Tensor.Uniform(g, 0, 1000, n, 2).ToArray();
        var side = Tensor.Uniform(g, 4, 9, n, 2).ToArray();   // log2 of 16..512
        var b = new float[4 * n];
        for (int i = 0; i < n; i++)
        {
            float w = MathF.Pow(2, side[2 * i]), h = MathF.Pow(2, side[2 * i + 1]);
            b[4 * i] = c[2 * i] - w / 2; b[4 * i + 1] = c[2 * i + 1] * 0.6f - h / 2;
            b[4 * i + 2] = c[2 * i] + w / 2; b[4 * i + 3] = c[2 * i + 1] * 0.6f + h / 2;
        }
        return (Boxes(b), Tensor.Uniform(g, 0, 1, n));
    }

    private static int[] ReferenceNms(Tensor boxes, Tensor scores, float threshold, int[]? groups)
    {
        float[] s = scores.ToArray();
        float[,] iou = new float[s.Length, s.Length];
        float[] all = F.BoxIou(boxes, boxes).ToArray();
        // LINQ's OrderByDescending is stable and float.CompareTo puts NaN below everything.
        int[] order = Enumerable.Range(0, s.Length).OrderByDescending(i => s[i]).ToArray();
        var suppressed = new bool[s.Length];
        var keep = new List<int>();
        foreach (int i in order)
        {
            if (suppressed[i]) continue;
            keep.Add(i);
            foreach (int j in order)
                if (all[i * s.Length + j] > threshold && (groups is null || groups[i] == groups[j])) suppressed[j] = true;
        }
        return keep.ToArray();
    }

    [Fact]
    public void BoxConvertByHand()
    {
        var xyxy = Boxes(1, 2, 5, 10);
        var xywh = Boxes(1, 2, 4, 8);
        var cxcywh = Boxes(3, 6, 4, 8);
        var byFormat = new Dictionary<BoxFormat, Tensor> { [BoxFormat.XyXy] = xyxy, [BoxFormat.XyWh] = xywh, [BoxFormat.CxCyWh] = cxcywh };
        foreach (var (from, source) in byFormat)
            foreach (var (to, expected) in byFormat)
                Assert.Equal(expected.ToArray(), F.BoxConvert(source, from, to).ToArray());
    }

    [Fact]
    public void BoxConvertGradients()
    {
        var formats = new[] { BoxFormat.XyXy, BoxFormat.XyWh, BoxFormat.CxCyWh };
        var b = Leaf(new Generator(4), 3, 4);
        foreach (var from in formats)
            foreach (var to in formats)
                GradientCheck.Check(xs => F.BoxConvert(xs[0], from, to), [b], output, $"box convert {from} -> {to}", ["boxes"]);
    }

    [Fact]
    public void ClipBoxesToImageByHandAndGradient()
    {
        var clipped = F.ClipBoxesToImage(Boxes(-3, -1, 12, 7, 2, 3, 4, 5), height: 6, width: 10);
        Assert.Equal(new float[] { 0, 0, 10, 6, 2, 3, 4, 5 }, clipped.ToArray());
        // Values away from the bounds 0, 6 and 10, so that no ±step straddles a kink.
        var b = Tensor.FromArray([-2.5f, 0.5f, 11.5f, 5.5f, 3.5f, -0.5f, 9.5f, 7.5f, 0.5f, 2.5f, 4.5f, 3.5f], 3, 4);
        b.RequiresGrad = true;
        GradientCheck.Check(xs => F.ClipBoxesToImage(xs[0], 6, 10), [b], output, "clip boxes", ["boxes"]);
        b.ZeroGrad();
        F.ClipBoxesToImage(b, 6, 10).Backward(Tensor.Ones(3, 4));
        Assert.Equal(new float[] { 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1 }, b.Grad!.ToArray());
    }

    [Fact]
    public void RemoveSmallBoxesKeepsSidesAtLeastMinSize()
    {
        // Widths/heights: (2, 2) kept at the bound; (1.9, 5) too narrow; (5, 1.9) too short; inverted; NaN; (3, 3) kept.
        var boxes = Boxes(0, 0, 2, 2, 0, 0, 1.9f, 5, 0, 0, 5, 1.9f, 4, 4, 1, 1, 0, 0, float.NaN, 3, 1, 1, 4, 4);
        Assert.Equal(new[] { 0, 5 }, F.RemoveSmallBoxes(boxes, 2f));
        Assert.Equal(new[] { 0, 1, 2, 5 }, F.RemoveSmallBoxes(boxes, 0f));
    }
}
