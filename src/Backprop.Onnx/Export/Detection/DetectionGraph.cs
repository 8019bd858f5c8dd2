using Backprop.Onnx.Proto;
using static Backprop.Onnx.OnnxAttributes;

namespace Backprop.Onnx;

/// <summary>
/// Nodes for graphs whose sizes are only known when they run (boxes kept by a threshold, detections after NMS): thin
/// wrappers over <see cref="OnnxGraphBuilder.AddNode(string, string, IReadOnlyList{string}, AttributeProto[])"/> that
/// take and return value names, so the detection export reads as the computation it writes. Every node is named
/// <c>prefix.local</c>; int64 values are 1-D unless a method says scalar.
/// </summary>
internal sealed class DetectionGraph(OnnxGraphBuilder graph)
{
    public OnnxGraphBuilder Graph { get; } = graph;

    /// <summary>Adds a node named <paramref name="name"/> with one output.</summary>
    public string Node(string op, string name, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        Graph.AddNode(op, name, inputs, attributes);

    /// <summary>A float32 constant of the given shape (an initializer; rank 0 for a scalar).</summary>
    public string Floats(string name, float[] values, params int[] shape) => Graph.AddInitializer(name, Tensor.FromArray(values, shape));

    /// <summary>A float32 scalar (rank 0): a broadcast operand, or a Range bound.</summary>
    public string Scalar(string name, float value) => Graph.AddInitializer(name, Tensor.Scalar(value));

    /// <summary>A 1-D int64 constant (shapes, axes, indices).</summary>
    public string Int64s(string name, params long[] values) => Graph.AddInt64Initializer(name, values);

    /// <summary>An int64 scalar (rank 0), as a Constant node: Gather with it drops the axis.</summary>
    public string Int64Scalar(string name, long value) => Node("Constant", name, [], TensorAttribute("value", TensorProto.Types.DataType.Int64, [], value));

    /// <summary>Dimension <paramref name="axis"/> of <paramref name="x"/>'s shape, as a 1-D int64 of one element.</summary>
    public string Dim(string x, int axis, string name) =>
        Node("Gather", name, [Node("Shape", name + "_shape", [x]), Int64s(name + "_axis", axis)], Int("axis", 0));

    /// <summary>A 1-D int64 of one element as a rank-0 scalar.</summary>
    public string ToScalar(string x, string name) => Node("Squeeze", name, [x, Int64s(name + "_axes", 0)]);

    public string Cast(string x, TensorProto.Types.DataType to, string name) => Node("Cast", name, [x], Int("to", (long)to));

    /// <summary>Elements [start, end) of <paramref name="x"/> along <paramref name="axis"/>.</summary>
    public string Slice(string x, int axis, long start, long end, string name) =>
        Node("Slice", name, [x, Int64s(name + "_starts", start), Int64s(name + "_ends", end), Int64s(name + "_axes", axis)]);

    public string Gather(string x, string indices, int axis, string name) => Node("Gather", name, [x, indices], Int("axis", axis));

    public string Reshape(string x, string name, params long[] shape) => Node("Reshape", name, [x, Int64s(name + "_shape", shape)]);

    public string Unsqueeze(string x, string name, params long[] axes) => Node("Unsqueeze", name, [x, Int64s(name + "_axes", axes)]);

    public string Transpose(string x, string name, params long[] perm) => Node("Transpose", name, [x], Ints("perm", perm));

    public string Concat(IReadOnlyList<string> xs, int axis, string name) => Node("Concat", name, xs, Int("axis", axis));

    public string Add(string a, string b, string name) => Node("Add", name, [a, b]);

    public string Sub(string a, string b, string name) => Node("Sub", name, [a, b]);

    public string Mul(string a, string b, string name) => Node("Mul", name, [a, b]);

    public string Div(string a, string b, string name) => Node("Div", name, [a, b]);

    /// <summary>The positions (1-D int64, increasing) where the boolean <paramref name="mask"/> of rank 1 is true.</summary>
    public string Positions(string mask, string name) => Reshape(Node("NonZero", name + "_nonzero", [mask]), name, -1);

    /// <summary>A rank-1 int64 of one element: min(<paramref name="count"/>, <paramref name="limit"/>) (TopK's k must not exceed its axis).</summary>
    public string AtMost(string count, long limit, string name) => Node("Min", name, [count, Int64s(name + "_limit", limit)]);

    /// <summary>
    /// Scores n, n − 1, ..., 1 (float32) for n = rows of <paramref name="sorted"/>: given to NonMaxSuppression in place of
    /// the real scores of boxes already sorted, so its visiting order is the sort's, equal scores included (ONNX Runtime's
    /// heap leaves the order of equal scores unspecified).
    /// </summary>
    public string RankScores(string sorted, string name)
    {
        string n = Cast(ToScalar(Dim(sorted, 0, name + "_n"), name + "_n0"), TensorProto.Types.DataType.Float, name + "_nf");
        return Node("Range", name, [n, Scalar(name + "_end", 0f), Scalar(name + "_step", -1f)]);
    }

    /// <summary>
    /// Greedy NMS (ONNX NonMaxSuppression) of boxes (M, 4) visited in the order of <paramref name="classScores"/> (C, M),
    /// one independent pass per row, boxes scoring ≤ 0 in a row left out of it; at most <paramref name="maxPerClass"/>
    /// kept per row. IoU as <see cref="Functional.Nms"/> (no +1; suppressed when strictly greater than the threshold;
    /// zero-area boxes overlap nothing). Returns the kept box indices (K), row by row, each row in visiting order.
    /// </summary>
    public string Nms(string boxes, string classScores, long maxPerClass, float iouThreshold, string name)
    {
        string selected = Node("NonMaxSuppression", name, [Unsqueeze(boxes, name + "_boxes", 0), Unsqueeze(classScores, name + "_scores", 0),
            Int64s(name + "_max", maxPerClass), Floats(name + "_iou", [iouThreshold], 1), Floats(name + "_min_score", [0f], 1)]);
        return Gather(selected, Int64Scalar(name + "_column", 2), 1, name + "_kept");
    }

    /// <summary>
    /// <see cref="Functional.BatchedNms"/> with labels as groups: boxes (M, 4), scores (M), labels (M, int64) in
    /// 1..<paramref name="classes"/>; returns the kept positions (int64) by decreasing score, equal scores lower position
    /// first, at most <paramref name="maxKept"/> of them (the first of Backprop's list). Boxes are sorted once (TopK keeps
    /// equal scores in position order), and each class is one row of NMS scores: the boxes' ranks where the box has the
    /// class, −1 (left out) elsewhere. The first <paramref name="maxKept"/> of all classes are among the first
    /// <paramref name="maxKept"/> of each, and the survivors ordered by sorted position are ordered by score.
    /// </summary>
    public string BatchedNms(string boxes, string scores, string labels, int classes, long maxKept, float iouThreshold, string name)
    {
        string order = Graph.AddNode("TopK", name + ".sort", [scores, Dim(scores, 0, name + ".count")], 2,
            Int("axis", 0), Int("largest", 1), Int("sorted", 1))[1];
        string sortedBoxes = Gather(boxes, order, 0, name + ".sorted_boxes");
        string classIds = Int64s(name + ".class_ids", Enumerable.Range(1, classes).Select(c => (long)c).ToArray());
        string ownClass = Node("Equal", name + ".own_class",
            [Unsqueeze(Gather(labels, order, 0, name + ".sorted_labels"), name + ".label_row", 0), Unsqueeze(classIds, name + ".class_column", 1)]);
        string ranks = Node("Where", name + ".class_ranks", [ownClass, RankScores(sortedBoxes, name + ".rank"), Scalar(name + ".not_in_class", -1f)]);
        string kept = Nms(sortedBoxes, ranks, maxKept, iouThreshold, name + ".nms");
        string count = AtMost(Dim(kept, 0, name + ".kept_count"), maxKept, name + ".kept_limit");
        string positions = Graph.AddNode("TopK", name + ".first", [kept, count], 2, Int("axis", 0), Int("largest", 0), Int("sorted", 1))[0];
        return Gather(order, positions, 0, name);
    }

    /// <summary>A TENSOR attribute holding one int64 or float value of the given shape (for Constant and ConstantOfShape).</summary>
    public static AttributeProto TensorAttribute(string name, TensorProto.Types.DataType type, long[] dims, double value)
    {
        var tensor = new TensorProto { DataType = (int)type };
        tensor.Dims.AddRange(dims);
        if (type == TensorProto.Types.DataType.Int64) tensor.Int64Data.Add((long)value);
        else tensor.FloatData.Add((float)value);
        return new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = tensor };
    }
}
