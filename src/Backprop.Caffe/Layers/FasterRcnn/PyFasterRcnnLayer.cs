using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// A py-faster-rcnn Python layer run natively: it reads its param_str and <see cref="Config"/>, computes its tops from
/// its bottoms' values, and, like the Python originals, propagates no gradient (its tops are plain values).
/// </summary>
public abstract class PyFasterRcnnLayer : CaffeLayer
{
    private protected PyFasterRcnnLayer(LayerParameter definition) : base(definition) { }

    /// <summary>py-faster-rcnn's cfg as this layer reads it; <see cref="PyFasterRcnnConfig.Default"/> unless configured.</summary>
    public PyFasterRcnnConfig Config { get; set; } = PyFasterRcnnConfig.Default;

    /// <summary>The python_param module and layer this implements, e.g. <c>rpn.proposal_layer.ProposalLayer</c>.</summary>
    public string PythonName => $"{Definition.PythonParam.Module}.{Definition.PythonParam.Layer}";

    private protected PythonParamString ReadParams() => new(Definition.PythonParam.ParamStr, Where);

    /// <summary>Refuses a batch of more than one image, as the Python layers do.</summary>
    private protected void RequireOneImage(Shape shape, string blob)
    {
        if (shape.Rank < 1 || shape[0] != 1) throw Error($"only single-image batches are supported (as in py-faster-rcnn); {blob} is {shape}.");
    }

    /// <summary>im_info's (height, width, scale) from a (1, 3) blob.</summary>
    private protected (float Height, float Width, float Scale) ImageInfo(Tensor imInfo)
    {
        if (imInfo.Length < 3) throw Error($"im_info must hold (height, width, scale), got {imInfo.Shape}.");
        var v = imInfo.AsSpan();
        if (!(v[0] >= 1 && v[1] >= 1) || !float.IsFinite(v[0]) || !float.IsFinite(v[1]) || !(v[2] > 0) || !float.IsFinite(v[2]))
            throw Error($"im_info ({v[0]}, {v[1]}, {v[2]}) is not a valid image height, width and scale.");
        return (v[0], v[1], v[2]);
    }

    /// <summary>gt_boxes (G, 5) rows (x1, y1, x2, y2, class); at least one box.</summary>
    private protected int GroundTruthCount(Tensor gtBoxes)
    {
        if (gtBoxes.Rank != 2 || gtBoxes.Shape[1] != 5) throw Error($"gt_boxes must be (G, 5) rows (x1, y1, x2, y2, class), got {gtBoxes.Shape}.");
        if (gtBoxes.Shape[0] == 0) throw Error("gt_boxes is empty; py-faster-rcnn trains only on images with at least one object.");
        return gtBoxes.Shape[0];
    }

    /// <summary>The anchor scales and feature stride of param_str (<c>'feat_stride': 16</c>, optional <c>'scales': (8, 16, 32)</c>).</summary>
    private protected (Tensor Anchors, int Stride) Anchors(PythonParamString p)
    {
        int stride = p.Int("feat_stride");
        if (stride <= 0 || stride > 4096) throw Error($"python_param param_str 'feat_stride' must be a positive pixel stride, got {stride}.");
        var scales = p.Floats("scales", [8f, 16f, 32f]);
        if (scales.Length > 64) throw Error($"python_param param_str 'scales' lists {scales.Length} scales; at most 64.");
        try { return (Backprop.Detection.PyFasterRcnnAnchors.Generate(16, null, scales), stride); }
        catch (ArgumentException e) { throw Error($"python_param param_str 'scales': {e.Message}"); }
    }
}
