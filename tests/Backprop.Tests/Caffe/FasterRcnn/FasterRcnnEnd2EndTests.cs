using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Detection;
using Backprop.Tests.IO;

namespace Backprop.Tests.Caffe.FasterRcnn;

/// <summary>
/// A reduced ZF faster_rcnn_end2end net (py-faster-rcnn's layer types, Python layers and parameters, small widths,
/// anchor scales for small images) trains on a generated VOC folder and its test net detects.
/// </summary>
public class FasterRcnnEnd2EndTests
{
    private const string Trunk = """
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" param { lr_mult: 1.0 } param { lr_mult: 2.0 }
          convolution_param { num_output: 8 kernel_size: 7 pad: 3 stride: 2 weight_filler { type: "gaussian" std: 0.05 } } }
        layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
        layer { name: "norm1" type: "LRN" bottom: "conv1" top: "norm1"
          lrn_param { local_size: 3 alpha: 0.00005 beta: 0.75 norm_region: WITHIN_CHANNEL engine: CAFFE } }
        layer { name: "pool1" type: "Pooling" bottom: "norm1" top: "pool1" pooling_param { kernel_size: 3 stride: 2 pad: 1 pool: MAX } }
        layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" param { lr_mult: 1.0 } param { lr_mult: 2.0 }
          convolution_param { num_output: 16 kernel_size: 5 pad: 2 stride: 2 weight_filler { type: "gaussian" std: 0.05 } } }
        layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
        layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { kernel_size: 3 stride: 2 pad: 1 pool: MAX } }
        layer { name: "conv5" type: "Convolution" bottom: "pool2" top: "conv5" param { lr_mult: 1.0 } param { lr_mult: 2.0 }
          convolution_param { num_output: 16 kernel_size: 3 pad: 1 stride: 1 weight_filler { type: "gaussian" std: 0.05 } } }
        layer { name: "relu5" type: "ReLU" bottom: "conv5" top: "conv5" }
        layer { name: "rpn_conv/3x3" type: "Convolution" bottom: "conv5" top: "rpn/output" param { lr_mult: 1.0 } param { lr_mult: 2.0 }
          convolution_param { num_output: 16 kernel_size: 3 pad: 1 stride: 1 weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" value: 0 } } }
        layer { name: "rpn_relu/3x3" type: "ReLU" bottom: "rpn/output" top: "rpn/output" }
        layer { name: "rpn_cls_score" type: "Convolution" bottom: "rpn/output" top: "rpn_cls_score" param { lr_mult: 1.0 } param { lr_mult: 2.0 }
          convolution_param { num_output: 18 kernel_size: 1 pad: 0 stride: 1 weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" value: 0 } } }
        layer { name: "rpn_bbox_pred" type: "Convolution" bottom: "rpn/output" top: "rpn_bbox_pred" param { lr_mult: 1.0 } param { lr_mult: 2.0 }
          convolution_param { num_output: 36 kernel_size: 1 pad: 0 stride: 1 weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" value: 0 } } }
        layer { bottom: "rpn_cls_score" top: "rpn_cls_score_reshape" name: "rpn_cls_score_reshape" type: "Reshape"
          reshape_param { shape { dim: 0 dim: 2 dim: -1 dim: 0 } } }
        """;

    private const string RpnProposals = """
        layer { name: "rpn_cls_prob" type: "Softmax" bottom: "rpn_cls_score_reshape" top: "rpn_cls_prob" }
        layer { name: 'rpn_cls_prob_reshape' type: 'Reshape' bottom: 'rpn_cls_prob' top: 'rpn_cls_prob_reshape'
          reshape_param { shape { dim: 0 dim: 18 dim: -1 dim: 0 } } }
        layer { name: 'proposal' type: 'Python' bottom: 'rpn_cls_prob_reshape' bottom: 'rpn_bbox_pred' bottom: 'im_info' top: ROIS
          python_param { module: 'rpn.proposal_layer' layer: 'ProposalLayer' param_str: "'feat_stride': 16, 'scales': (2, 4, 8)" } }
        """;

    private const string Head = """
        layer { name: "roi_pool_conv5" type: "ROIPooling" bottom: "conv5" bottom: "rois" top: "roi_pool_conv5"
          roi_pooling_param { pooled_w: 6 pooled_h: 6 spatial_scale: 0.0625 } }
        layer { name: "fc6" type: "InnerProduct" bottom: "roi_pool_conv5" top: "fc6" param { lr_mult: 1.0 } param { lr_mult: 2.0 }
          inner_product_param { num_output: 32 weight_filler { type: "gaussian" std: 0.01 } } }
        layer { name: "relu6" type: "ReLU" bottom: "fc6" top: "fc6" }
        layer { name: "drop6" type: "Dropout" bottom: "fc6" top: "fc6" dropout_param { dropout_ratio: 0.5 scale_train: false } }
        layer { name: "cls_score" type: "InnerProduct" bottom: "fc6" top: "cls_score" param { lr_mult: 1.0 } param { lr_mult: 2.0 }
          inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" value: 0 } } }
        layer { name: "bbox_pred" type: "InnerProduct" bottom: "fc6" top: "bbox_pred" param { lr_mult: 1.0 } param { lr_mult: 2.0 }
          inner_product_param { num_output: 20 weight_filler { type: "gaussian" std: 0.001 } bias_filler { type: "constant" value: 0 } } }
        """;

    private static readonly string Train = """
        name: "ZF-reduced"
        layer { name: 'input-data' type: 'Python' top: 'data' top: 'im_info' top: 'gt_boxes'
          python_param { module: 'roi_data_layer.layer' layer: 'RoIDataLayer' param_str: "'num_classes': 5" } }
        """ + Trunk + """
        layer { name: 'rpn-data' type: 'Python' bottom: 'rpn_cls_score' bottom: 'gt_boxes' bottom: 'im_info' bottom: 'data'
          top: 'rpn_labels' top: 'rpn_bbox_targets' top: 'rpn_bbox_inside_weights' top: 'rpn_bbox_outside_weights'
          python_param { module: 'rpn.anchor_target_layer' layer: 'AnchorTargetLayer' param_str: "'feat_stride': 16, 'scales': (2, 4, 8)" } }
        layer { name: "rpn_loss_cls" type: "SoftmaxWithLoss" bottom: "rpn_cls_score_reshape" bottom: "rpn_labels"
          propagate_down: 1 propagate_down: 0 top: "rpn_cls_loss" loss_weight: 1 loss_param { ignore_label: -1 normalize: true } }
        layer { name: "rpn_loss_bbox" type: "SmoothL1Loss" bottom: "rpn_bbox_pred" bottom: "rpn_bbox_targets"
          bottom: 'rpn_bbox_inside_weights' bottom: 'rpn_bbox_outside_weights' top: "rpn_loss_bbox" loss_weight: 1 smooth_l1_loss_param { sigma: 3.0 } }
        """ + RpnProposals.Replace("ROIS", "'rpn_rois'") + """
        layer { name: 'roi-data' type: 'Python' bottom: 'rpn_rois' bottom: 'gt_boxes'
          top: 'rois' top: 'labels' top: 'bbox_targets' top: 'bbox_inside_weights' top: 'bbox_outside_weights'
          python_param { module: 'rpn.proposal_target_layer' layer: 'ProposalTargetLayer' param_str: "'num_classes': 5" } }
        """ + Head + """
        layer { name: "loss_cls" type: "SoftmaxWithLoss" bottom: "cls_score" bottom: "labels" propagate_down: 1 propagate_down: 0
          top: "cls_loss" loss_weight: 1 loss_param { ignore_label: -1 normalize: true } }
        layer { name: "loss_bbox" type: "SmoothL1Loss" bottom: "bbox_pred" bottom: "bbox_targets"
          bottom: 'bbox_inside_weights' bottom: 'bbox_outside_weights' top: "bbox_loss" loss_weight: 1 }
        """;

    private static readonly string Test = """
        name: "ZF-reduced"
        input: "data"
        input_shape { dim: 1 dim: 3 dim: 224 dim: 224 }
        input: "im_info"
        input_shape { dim: 1 dim: 3 }
        """ + Trunk + RpnProposals.Replace("ROIS", "'rois'") + Head + """
        layer { name: "cls_prob" type: "Softmax" bottom: "cls_score" top: "cls_prob" }
        """;

    private static readonly PyFasterRcnnConfig Small = PyFasterRcnnConfig.Default with { TrainScales = [192], TrainMaxSize = 320 };

    [Fact]
    public void ReducedZfEnd2EndTrainsWithFiniteLossesAndItsTestNetProposes()
    {
        using var voc = new TempDirectory();
        SyntheticShapes.WriteVoc(voc.Path, trainCount: 3, testCount: 1, seed: 5, imageSize: 96);
        var solverDef = Prototxt.Parse<SolverParameter>("base_lr: 0.001 lr_policy: \"fixed\" momentum: 0.9 weight_decay: 0.0005 max_iter: 3 random_seed: 3 snapshot_after_train: false");
        solverDef.NetParam = Prototxt.Parse<NetParameter>(Train, "train.prototxt");
        var solver = new CaffeSolver(solverDef);
        Assert.Equal(4, PyFasterRcnnLayers.Configure(solver.TrainNet, Small, voc.Path));
        var before = solver.TrainNet.Parameters.Select(p => p.ToArray()).ToList();
        solver.Solve();
        Assert.Equal(3, solver.Losses.Count);
        Assert.All(solver.Losses, l => Assert.True(float.IsFinite(l) && l > 0, $"loss {l}"));
        Assert.Contains(solver.TrainNet.Parameters.Select((p, i) => (p, i)), x => !x.p.ToArray().SequenceEqual(before[x.i]));

        // One more pass, to look at the blobs: four losses, every RoI batch within py-faster-rcnn's limits.
        var result = solver.TrainNet.Forward(new NetContext(Phase.Train, 3) { Iteration = 7 });
        foreach (var name in new[] { "rpn_cls_loss", "rpn_loss_bbox", "cls_loss", "bbox_loss" })
            Assert.True(float.IsFinite(result.Blobs[name].Item()), name);
        var labels = result.Blobs["labels"].ToArray();
        Assert.InRange(labels.Length, 1, 128);
        Assert.InRange(labels.Count(l => l > 0), 1, 32);
        Assert.Equal(new Shape(labels.Length, 16, 6, 6), result.Blobs["roi_pool_conv5"].Shape);
        var imInfo = result.Blobs["im_info"].ToArray();
        Assert.Equal([192f, 192f, 2f], imInfo);
        Assert.Equal(new Shape(1, 3, 192, 192), result.Blobs["data"].Shape);

        var test = CaffeNet.Build(Prototxt.Parse<NetParameter>(Test, "test.prototxt"), new NetState { Phase = Phase.Test }, new Generator(1), new NetContext(Phase.Test));
        test.ShareWeightsWith(solver.TrainNet);
        var context = new NetContext(Phase.Test);
        context.Inputs["data"] = Tensor.Randn(new Generator(2), 1, 3, 160, 208) * 50f;
        context.Inputs["im_info"] = Tensor.FromArray([160f, 208f, 1f], 1, 3);
        var detections = test.Forward(context);
        var rois = detections.Blobs["rois"];
        Assert.InRange(rois.Shape[0], 1, 300);
        Assert.Equal(new Shape(rois.Shape[0], 5), detections.Blobs["cls_prob"].Shape);
        Assert.Equal(new Shape(rois.Shape[0], 20), detections.Blobs["bbox_pred"].Shape);
        Assert.All(detections.Blobs["cls_prob"].ToArray(), p => Assert.True(float.IsFinite(p)));
    }

    [Fact]
    public void RoIDataLayerWithoutAFolderSaysHowToGiveOne()
    {
        var net = CaffeNet.Build(Prototxt.Parse<NetParameter>(Train, "train.prototxt"), new NetState { Phase = Phase.Train }, new Generator(1), new NetContext(Phase.Train));
        if (Environment.GetEnvironmentVariable(RoiDataLayer.VocRootVariable) is not null) return;   // a user's setting would be read
        var error = Assert.Throws<CaffeNetException>(() => net.Forward(new NetContext(Phase.Train)));
        Assert.Contains("'input-data'", error.Message);
        Assert.Contains(RoiDataLayer.VocRootVariable, error.Message);
    }

    [Fact]
    public void RoIDataLayerRefusesAClassCountTheFolderDoesNotHave()
    {
        using var voc = new TempDirectory();
        SyntheticShapes.WriteVoc(voc.Path, trainCount: 1, testCount: 0, seed: 5, imageSize: 64);
        var net = CaffeNet.Build(Prototxt.Parse<NetParameter>(Train.Replace("'RoIDataLayer' param_str: \"'num_classes': 5", "'RoIDataLayer' param_str: \"'num_classes': 21"), "train.prototxt"),
            new NetState { Phase = Phase.Train }, new Generator(1), new NetContext(Phase.Train));
        PyFasterRcnnLayers.Configure(net, Small, voc.Path);
        var error = Assert.Throws<CaffeNetException>(() => net.Forward(new NetContext(Phase.Train)));
        Assert.Contains("num_classes 21", error.Message);
        Assert.Contains(voc.Path, error.Message);
    }
}
