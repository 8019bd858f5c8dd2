using Backprop.Onnx.Import;
using Backprop.Onnx.Proto;
using Google.Protobuf;
using static Backprop.Tests.Onnx.Import.OnnxMalformedFileTests;

namespace Backprop.Tests.Onnx.Import;

/// <summary>
/// Shape arithmetic (Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast, ConstantOfShape on integer tensors) runs
/// on each pass from the input's actual shape, and the same operators work on float tensors; numbers checked by hand.
/// </summary>
public sealed class OnnxShapeArithmeticTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("onnx-shapes-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private OnnxModule Import(long opset, TensorProto[] initializers, params NodeProto[] nodes)
    {
        var graph = new GraphProto();
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        graph.Initializer.AddRange(initializers);
        graph.Node.AddRange(nodes);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = opset });
        var path = Path.Combine(directory, "m.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return OnnxImporter.Import(path);
    }

    private static NodeProto N(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = Node(output, op, inputs, [output]);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Ints(string name, params long[] values) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };
    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static TensorProto Longs(string name, long[] dims, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { dims } };
        t.Int64Data.AddRange(values);
        return t;
    }

    private static TensorProto Vector(string name, params long[] values) => Longs(name, [values.Length], values);

    private static Tensor Range(params int[] shape) => Tensor.FromArray([.. Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => (float)i)], shape);

    // PyTorch's x.view(x.size(0), -1) at opset 13: the batch is read from the input each pass.
    [Theory]
    [InlineData(13, 2)]
    [InlineData(13, 5)]
    [InlineData(11, 3)]
    public void View_by_the_batch_size_follows_the_input(long opset, int batch)
    {
        var unsqueeze = opset >= 13 ? N("Unsqueeze", ["n", "zero_axis"], "n1") : N("Unsqueeze", ["n"], "n1", Ints("axes", 0));
        var module = Import(opset, [Longs("zero", [], 0), Vector("zero_axis", 0), Vector("rest", -1)],
            N("Shape", ["x"], "s"), N("Gather", ["s", "zero"], "n", Int("axis", 0)), unsqueeze,
            N("Concat", ["n1", "rest"], "shape", Int("axis", 0)), N("Reshape", ["x", "shape"], "y"));
        var x = Range(batch, 2, 3);
        var y = module.Forward(x);
        Assert.Equal(new Shape(batch, 6), y.Shape);
        Assert.Equal(x.ToArray(), y.ToArray());
        Assert.Equal(["Shape", "Gather", "Unsqueeze", "Concat", "Reshape"], module.Nodes.Select(n => n.OpType));
    }

    // Slice with negative steps and INT64 bounds on the shape ([2, 3, 4] reversed without its last entry: [3, 2]),
    // Squeeze/Cast/ConstantOfShape on integers, and a float tensor built from the computed shape.
    [Fact]
    public void Slice_squeeze_cast_and_constant_of_shape_on_a_computed_shape()
    {
        var module = Import(13, [Vector("start", -2), Vector("end", long.MinValue), Vector("axis", 0), Vector("step", -1)],
            N("Shape", ["x"], "s"),
            N("Slice", ["s", "start", "end", "axis", "step"], "rev"),
            N("Cast", ["rev"], "rev32", Int("to", (long)TensorProto.Types.DataType.Int32)),
            N("ConstantOfShape", ["rev32"], "filled", new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = FloatTensor("v", [1], [2.5f]) }),
            N("Shape", ["filled"], "s2"),
            N("Cast", ["s2"], "s2f", Int("to", (long)TensorProto.Types.DataType.Float)),
            N("Mul", ["filled", "s2f"], "y"));
        var y = module.Forward(Tensor.Zeros(2, 3, 4));
        Assert.Equal(new Shape(3, 2), y.Shape);
        Assert.Equal([7.5f, 5f, 7.5f, 5f, 7.5f, 5f], y.ToArray());
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Squeeze_and_unsqueeze_of_floats_take_axes_from_attributes_or_inputs(long opset)
    {
        var (squeeze, unsqueeze) = opset >= 13
            ? (N("Squeeze", ["x", "axes1"], "sq"), N("Unsqueeze", ["sq", "axes2"], "y"))
            : (N("Squeeze", ["x"], "sq", Ints("axes", 1)), N("Unsqueeze", ["sq"], "y", Ints("axes", -1, 0)));
        var module = Import(opset, opset >= 13 ? [Vector("axes1", 1), Vector("axes2", -1, 0)] : [], squeeze, unsqueeze);
        var y = module.Forward(Range(2, 1, 3));
        Assert.Equal(new Shape(1, 2, 3, 1), y.Shape);
        Assert.Equal(Range(2, 1, 3).ToArray(), y.ToArray());
    }

    // Gather on floats along axis 1 with 2-D indices (a negative one); the gradient adds up where an index repeats.
    [Fact]
    public void Gather_of_floats_along_an_axis_and_its_gradient()
    {
        var module = Import(13, [Longs("idx", [2, 2], 2, -3, 0, 2)], N("Gather", ["x", "idx"], "y", Int("axis", 1)));
        var x = Range(2, 3);
        x.RequiresGrad = true;
        var y = module.Forward(x);
        Assert.Equal(new Shape(2, 2, 2), y.Shape);
        Assert.Equal([2f, 0f, 0f, 2f, 5f, 3f, 3f, 5f], y.ToArray());
        y.Sum().Backward();
        Assert.Equal([2f, 0f, 2f, 2f, 0f, 2f], x.Grad!.ToArray());
    }

    // Opset 10+ Slice on floats: a step of 2 from the end, and a plain crop on another axis; gradients reach the input.
    [Fact]
    public void Slice_of_floats_with_steps()
    {
        var module = Import(13, [Vector("starts", 1, -1), Vector("ends", long.MaxValue, 0), Vector("axes", 0, 1), Vector("steps", 1, -2)],
            N("Slice", ["x", "starts", "ends", "axes", "steps"], "y"));
        var y = module.Forward(Range(3, 5));
        Assert.Equal(new Shape(2, 2), y.Shape);
        Assert.Equal([9f, 7f, 14f, 12f], y.ToArray());
    }

    // A shape made only of constants is folded at import: no step runs for it, and Reshape sees a known shape.
    [Fact]
    public void Shapes_from_constants_are_folded_at_import()
    {
        var module = Import(13, [Vector("a", 3), Vector("b", -1)],
            N("Concat", ["a", "b"], "shape", Int("axis", 0)), N("Cast", ["shape"], "shape64", Int("to", (long)TensorProto.Types.DataType.Int64)),
            N("Reshape", ["x", "shape64"], "y"));
        Assert.Equal(["Reshape"], module.Nodes.Select(n => n.OpType));
        Assert.Equal(new Shape(3, 4), module.Forward(Range(2, 6)).Shape);
    }

    // A computed shape that would allocate more than a tensor may hold is refused before allocating.
    [Fact]
    public void A_huge_computed_shape_is_refused()
    {
        var module = Import(13, [Vector("big", 1L << 40)],
            N("Shape", ["x"], "s"), N("Mul", ["s", "big"], "huge"), N("ConstantOfShape", ["huge"], "y"));
        var e = Assert.Throws<InvalidDataException>(() => module.Forward(Tensor.Zeros(4)));
        Assert.Contains("more than", e.Message);
    }

    // A float operator fed a computed shape is refused at import, naming the node and the input.
    [Fact]
    public void A_float_operator_reading_a_computed_shape_is_a_clear_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => Import(13, [], N("Shape", ["x"], "s"), N("Relu", ["s"], "y")));
        Assert.Contains("node 'y' (Relu): its input 0 ('s') is an integer tensor computed from shapes", e.Message);
    }

    // An integer Reshape must keep the element count, as the float one does (Reshape(Shape(x) [4], [2]) held 4 values under dims [2]).
    [Theory]
    [InlineData(new long[] { 2 })]
    [InlineData(new long[] { -1, 3 })]
    [InlineData(new long[] { 3, 1L << 31, 1L << 31 })]
    public void Reshape_to_a_shape_of_another_size_is_refused(long[] target)
    {
        var e = Assert.Throws<ArgumentException>(() => OnnxShapeRules.Reshape([4], target, allowZero: false));
        Assert.Contains("4", e.Message);
    }

    [Fact]
    public void Slice_with_huge_steps_takes_one_element_and_an_empty_axis_takes_none()
    {
        Assert.Equal(1, OnnxShapeRules.Slice([5], [0], [5], null, [long.MaxValue])[0].Count);
        Assert.Equal(1, OnnxShapeRules.Slice([5], [4], [long.MinValue], null, [long.MinValue])[0].Count);
        Assert.Equal(3, OnnxShapeRules.Slice([5], [4], [long.MinValue], null, [-2])[0].Count);
        Assert.Equal(0, OnnxShapeRules.Slice([0], [-1], [long.MinValue], null, [-1])[0].Count);
    }

    // A single element of higher rank broadcasts against a vector as [1, 3], not as its own dims [1, 1].
    [Fact]
    public void A_single_element_of_higher_rank_broadcasts_to_both_ranks()
    {
        var module = Import(13, [Longs("one", [1, 1], 2)],
            N("Shape", ["x"], "s"), N("Mul", ["s", "one"], "doubled"), N("Shape", ["doubled"], "y"));
        var output = module.Forward(Tensor.Zeros(2, 3, 4));
        Assert.Equal([1f, 3f], output.ToArray());   // the shape of [4, 6, 8] laid out as [1, 3]
    }
}
