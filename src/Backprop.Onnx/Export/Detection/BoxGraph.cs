using Backprop.Detection;
using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>
/// Box arithmetic as ONNX nodes, written in the order of operations of the Backprop code it mirrors so that ONNX
/// Runtime rounds as Backprop does: <see cref="BoxCoder.Decode"/>, <see cref="Functional.ClipBoxesToImage"/> and the
/// minimum-size test of <see cref="Functional.RemoveSmallBoxes"/>. Boxes are (..., 4) as (x1, y1, x2, y2).
/// </summary>
internal static class BoxGraph
{
    /// <summary>
    /// <see cref="BoxCoder.Decode"/>: deltas (..., 4) applied to boxes (..., 4) that broadcast against them (an (R, 1, 4)
    /// against (R, K, 4) for per-class deltas). dw and dh are clamped at the coder's clip before exp, as Decode does.
    /// </summary>
    public static string Decode(DetectionGraph g, string deltas, string boxes, BoxCoder coder, string name)
    {
        var (wx, wy, ww, wh) = coder.Weights;
        string Column(string x, int j, string what) => g.Slice(x, -1, j, j + 1, $"{name}.{what}");
        string half = g.Scalar(name + ".half", 0.5f);
        string x1 = Column(boxes, 0, "x1"), y1 = Column(boxes, 1, "y1"), x2 = Column(boxes, 2, "x2"), y2 = Column(boxes, 3, "y2");
        string w = g.Sub(x2, x1, name + ".width"), h = g.Sub(y2, y1, name + ".height");
        string cx = g.Add(x1, g.Mul(half, w, name + ".half_width"), name + ".cx");
        string cy = g.Add(y1, g.Mul(half, h, name + ".half_height"), name + ".cy");
        string clip = g.Scalar(name + ".clip", coder.BoxTransformClip);
        string dx = g.Div(Column(deltas, 0, "d0"), g.Scalar(name + ".wx", wx), name + ".dx");
        string dy = g.Div(Column(deltas, 1, "d1"), g.Scalar(name + ".wy", wy), name + ".dy");
        string dw = g.Node("Min", name + ".dw", [g.Div(Column(deltas, 2, "d2"), g.Scalar(name + ".ww", ww), name + ".dw_scaled"), clip]);
        string dh = g.Node("Min", name + ".dh", [g.Div(Column(deltas, 3, "d3"), g.Scalar(name + ".wh", wh), name + ".dh_scaled"), clip]);
        string pcx = g.Add(g.Mul(dx, w, name + ".dx_w"), cx, name + ".pcx");
        string pcy = g.Add(g.Mul(dy, h, name + ".dy_h"), cy, name + ".pcy");
        string halfW = g.Mul(half, g.Mul(g.Node("Exp", name + ".exp_dw", [dw]), w, name + ".pw"), name + ".half_pw");
        string halfH = g.Mul(half, g.Mul(g.Node("Exp", name + ".exp_dh", [dh]), h, name + ".ph"), name + ".half_ph");
        return g.Concat([g.Sub(pcx, halfW, name + ".px1"), g.Sub(pcy, halfH, name + ".py1"), g.Add(pcx, halfW, name + ".px2"), g.Add(pcy, halfH, name + ".py2")],
            -1, name);
    }

    /// <summary>The bounds (4) = (W, H, W, H) of the image <paramref name="images"/> (1, 3, H, W), float32.</summary>
    public static string ImageBounds(DetectionGraph g, string images, string name)
    {
        string height = g.Cast(g.Dim(images, 2, name + ".h"), TensorProto.Types.DataType.Float, name + ".height");
        string width = g.Cast(g.Dim(images, 3, name + ".w"), TensorProto.Types.DataType.Float, name + ".width");
        return g.Concat([width, height, width, height], 0, name);
    }

    /// <summary><see cref="Functional.ClipBoxesToImage"/>: x to [0, W], y to [0, H] for <paramref name="bounds"/> from <see cref="ImageBounds"/>.</summary>
    public static string Clip(DetectionGraph g, string boxes, string bounds, string name) =>
        g.Node("Min", name, [g.Node("Max", name + "_low", [boxes, g.Scalar(name + "_zero", 0f)]), bounds]);

    /// <summary>True for boxes (M, 4) with width and height ≥ <paramref name="minSize"/> (M, boolean), as <see cref="Functional.RemoveSmallBoxes"/>.</summary>
    public static string LargeEnough(DetectionGraph g, string boxes, float minSize, string name)
    {
        string w = g.Sub(g.Slice(boxes, 1, 2, 3, name + ".x2"), g.Slice(boxes, 1, 0, 1, name + ".x1"), name + ".width");
        string h = g.Sub(g.Slice(boxes, 1, 3, 4, name + ".y2"), g.Slice(boxes, 1, 1, 2, name + ".y1"), name + ".height");
        string min = g.Scalar(name + ".min_size", minSize);
        string both = g.Node("And", name + ".both", [g.Node("GreaterOrEqual", name + ".wide", [w, min]), g.Node("GreaterOrEqual", name + ".tall", [h, min])]);
        return g.Reshape(both, name, -1);
    }
}
