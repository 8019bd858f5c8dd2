using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using Backprop.Tests.Caffe.Net;

namespace Backprop.Tests.Caffe.FasterRcnn;

/// <summary>py-faster-rcnn's anchor target and proposal layers, and the Python layer dispatch.</summary>
public class RpnLayerTests
{
    private const string AnchorNet = """
        layer { name: "in" type: "Input" top: "rpn_cls_score" top: "gt_boxes" top: "im_info"
          input_param { shape { dim: 1 dim: 18 dim: 25 dim: 38 } shape { dim: 1 dim: 5 } shape { dim: 1 dim: 3 } } }
        layer { name: 'rpn-data' type: 'Python' bottom: 'rpn_cls_score' bottom: 'gt_boxes' bottom: 'im_info'
          top: 'rpn_labels' top: 'rpn_bbox_targets' top: 'rpn_bbox_inside_weights' top: 'rpn_bbox_outside_weights'
          python_param { module: 'rpn.anchor_target_layer' layer: 'AnchorTargetLayer' param_str: "'feat_stride': 16" } }
        """;

    private static NetResult RunAnchors(float[] gt, ulong seed = 1)
    {
        var net = NetBuilderTests.Build(AnchorNet);
        var context = new NetContext(Phase.Train, seed);
        context.Inputs["rpn_cls_score"] = Tensor.Zeros(1, 18, 25, 38);
        context.Inputs["gt_boxes"] = Tensor.FromArray(gt, gt.Length / 5, 5);
        context.Inputs["im_info"] = Tensor.FromArray([400f, 600f, 1f], 1, 3);
        return net.Forward(context);
    }

    [Fact]
    public void AnchorTargetsSampleAtMost256AnchorsHalfPositive()
    {
        // Many boxes of anchor sizes: far more than 128 positives and plenty of negatives.
        var gt = new List<float>();
        for (int y = 0; y + 128 <= 400; y += 48)
            for (int x = 0; x + 128 <= 600; x += 48) gt.AddRange([x, y, x + 127, y + 127, 1]);
        var result = RunAnchors([.. gt]);
        var labels = result.Blobs["rpn_labels"];
        Assert.Equal(new Shape(1, 1, 9 * 25, 38), labels.Shape);
        var l = labels.ToArray();
        Assert.Equal(128, l.Count(v => v == 1));
        Assert.Equal(128, l.Count(v => v == 0));
        Assert.All(l, v => Assert.True(v is -1 or 0 or 1));
        var outside = result.Blobs["rpn_bbox_outside_weights"].ToArray();
        Assert.Equal(256 * 4, outside.Count(v => v == 1f / 256));
        Assert.Equal(128 * 4, result.Blobs["rpn_bbox_inside_weights"].ToArray().Count(v => v == 1));
    }

    [Fact]
    public void OneBoxGivesFewPositivesAndFillsTheBatchWithNegatives()
    {
        var result = RunAnchors([100, 100, 227, 227, 3]);
        var l = result.Blobs["rpn_labels"].ToArray();
        int positives = l.Count(v => v == 1);
        Assert.InRange(positives, 1, 20);
        Assert.Equal(256 - positives, l.Count(v => v == 0));
        // Every positive overlaps the box well (IoU ≥ 0.7, or it is the best anchor): its targets are small.
        var targets = result.Blobs["rpn_bbox_targets"];
        var t = targets.ToArray();
        int plane = 25 * 38;
        for (int i = 0; i < l.Length; i++)
        {
            if (l[i] != 1) continue;
            int anchor = i / plane, cell = i % plane;
            for (int c = 0; c < 4; c++) Assert.InRange(Math.Abs(t[(anchor * 4 + c) * plane + cell]), 0, 0.5);
        }
    }

    [Fact]
    public void AnchorTargetsReachTheBoxExactly()
    {
        // Anchor 3 (ratio 1, scale 8) of cell (x, y) is (−56 + 16x, −56 + 16y, 71 + 16x, 71 + 16y): cell (10, 8) gives
        // (104, 72, 231, 199). A box equal to it is that anchor's best match with IoU 1 and all-zero targets.
        var result = RunAnchors([104, 72, 231, 199, 1]);
        int plane = 25 * 38, cell = 8 * 38 + 10;
        Assert.Equal(1f, result.Blobs["rpn_labels"].ToArray()[3 * plane + cell]);
        var t = result.Blobs["rpn_bbox_targets"].ToArray();
        for (int c = 0; c < 4; c++) Assert.Equal(0f, t[(3 * 4 + c) * plane + cell]);
        // A neighbour shifted one cell right: dx = 16 / 128 = -0.125 to reach the box (its centre is 16 px to the left).
        Assert.Equal(-0.125f, t[(3 * 4) * plane + cell + 1], 6);
    }

    private const string ProposalNet = """
        layer { name: "in" type: "Input" top: "rpn_cls_prob_reshape" top: "rpn_bbox_pred" top: "im_info"
          input_param { shape { dim: 1 dim: 18 dim: 13 dim: 19 } shape { dim: 1 dim: 36 dim: 13 dim: 19 } shape { dim: 1 dim: 3 } } }
        layer { name: 'proposal' type: 'Python' bottom: 'rpn_cls_prob_reshape' bottom: 'rpn_bbox_pred' bottom: 'im_info'
          top: 'rois' top: 'scores' python_param { module: 'rpn.proposal_layer' layer: 'ProposalLayer' param_str: "'feat_stride': 16" } }
        """;

    [Theory]
    [InlineData(Phase.Test, 300)]
    [InlineData(Phase.Train, 2000)]
    public void ProposalsAreSortedClippedAndCapped(Phase phase, int postNms)
    {
        var net = NetBuilderTests.Build(ProposalNet, phase);
        var g = new Generator(5);
        var context = new NetContext(phase);
        context.Inputs["rpn_cls_prob_reshape"] = Tensor.Uniform(g, 0, 1, 1, 18, 13, 19);
        context.Inputs["rpn_bbox_pred"] = Tensor.Randn(g, 1, 36, 13, 19) * 0.2f;
        context.Inputs["im_info"] = Tensor.FromArray([200f, 300f, 1f], 1, 3);
        var result = net.Forward(context);
        var rois = result.Blobs["rois"];
        var scores = result.Blobs["scores"].ToArray();
        Assert.Equal(2, rois.Rank);
        Assert.Equal(5, rois.Shape[1]);
        Assert.InRange(rois.Shape[0], 50, postNms);
        Assert.Equal(new Shape(rois.Shape[0], 1), result.Blobs["scores"].Shape);
        for (int i = 1; i < scores.Length; i++) Assert.True(scores[i - 1] >= scores[i], $"score {i} ({scores[i]}) above score {i - 1} ({scores[i - 1]})");
        var r = rois.ToArray();
        for (int i = 0; i < rois.Shape[0]; i++)
        {
            Assert.Equal(0f, r[5 * i]);
            Assert.InRange(r[5 * i + 1], 0, 299); Assert.InRange(r[5 * i + 3], 0, 299);
            Assert.InRange(r[5 * i + 2], 0, 199); Assert.InRange(r[5 * i + 4], 0, 199);
            Assert.True(r[5 * i + 3] - r[5 * i + 1] + 1 >= 16 && r[5 * i + 4] - r[5 * i + 2] + 1 >= 16, $"proposal {i} is below the minimum size");
        }
        // The best-scoring anchor's proposal comes first: its score is the largest object probability.
        Assert.Equal(context.Inputs["rpn_cls_prob_reshape"].ToArray().Skip(9 * 13 * 19).Max(), scores[0]);
    }

    [Fact]
    public void UnknownPythonModuleIsAnErrorNamingIt()
    {
        var error = Assert.Throws<CaffeNetException>(() => NetBuilderTests.Build("""
            layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 } } }
            layer { name: "mine" type: "Python" bottom: "x" top: "y" python_param { module: "my_layers" layer: "Fancy" } }
            """));
        Assert.Contains("'mine'", error.Message);
        Assert.Contains("'my_layers'", error.Message);
        Assert.Contains("'Fancy'", error.Message);
        Assert.Contains("rpn.proposal_layer.ProposalLayer", error.Message);
    }

    [Fact]
    public void ParamStrReadsPyFasterRcnnSpellings()
    {
        var p = new PythonParamString("'feat_stride': 16\n'scales': !!python/tuple [4, 8]", "layer");
        Assert.Equal(16, p.Int("feat_stride"));
        Assert.Equal([4f, 8f], p.Floats("scales", []));
        var q = new PythonParamString("{'num_classes': 21, 'scales': (2, 4, 8)}", "layer");
        Assert.Equal(21, q.Int("num_classes"));
        Assert.Equal([2f, 4f, 8f], q.Floats("scales", []));
        Assert.Equal(7, q.Int("absent", 7));
        Assert.Contains("'feat_stride'", Assert.Throws<CaffeNetException>(() => q.Int("feat_stride")).Message);
        Assert.Contains("whole number", Assert.Throws<CaffeNetException>(() => new PythonParamString("'n': 2.5", "layer").Int("n")).Message);
    }
}
