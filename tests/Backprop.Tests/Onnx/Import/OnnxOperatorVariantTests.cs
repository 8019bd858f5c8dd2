using Backprop.Onnx.Import;
using Backprop.Onnx.Proto;
using Google.Protobuf;
using static Backprop.Tests.Onnx.Import.OnnxMalformedFileTests;

namespace Backprop.Tests.Onnx.Import;

/// <summary>Attribute variants the PyTorch fixtures do not reach, each on a one-node model with hand-checked numbers.</summary>
public sealed class OnnxOperatorVariantTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("onnx-variants-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private OnnxModule Import(NodeProto node, long opset = 13, params TensorProto[] initializers)
    {
        var graph = new GraphProto();
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        graph.Initializer.AddRange(initializers);
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = opset });
        var path = Path.Combine(directory, "m.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return OnnxImporter.Import(path);
    }

    private static NodeProto With(NodeProto node, params AttributeProto[] attributes)
    {
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Ints(string name, params long[] values) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };
    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    private static AttributeProto Text(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };
    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static TensorProto Longs(string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { values.Length } };
        t.Int64Data.AddRange(values);
        return t;
    }

    [Theory]
    [InlineData("SAME_UPPER", 4f, 1f)]
    [InlineData("SAME_LOWER", 1f, 4f)]
    [InlineData("VALID", 4f, 4f)]
    public void Conv_auto_pad_puts_the_odd_pad_where_onnx_says(string autoPad, float first, float last)
    {
        var node = With(Node("c", "Conv", ["x", "w"], ["y"]), Text("auto_pad", autoPad));
        var y = Import(node, 13, FloatTensor("w", [1, 1, 2, 2], [1, 1, 1, 1])).Forward(Tensor.Ones(1, 1, 3, 3));
        int size = autoPad == "VALID" ? 2 : 3;
        Assert.Equal(new Shape(1, 1, size, size), y.Shape);
        Assert.Equal(first, y[0, 0, 0, 0]);
        Assert.Equal(last, y[0, 0, size - 1, size - 1]);
    }

    [Fact]
    public void Asymmetric_max_pool_pads_with_minus_infinity()
    {
        var node = With(Node("p", "MaxPool", ["x"], ["y"]), Ints("kernel_shape", 2, 2), Ints("pads", 1, 0, 0, 1), Ints("strides", 1, 1));
        var x = Tensor.FromArray([-1f, -2f, -3f, -4f], 1, 1, 2, 2);
        var y = Import(node).Forward(x);
        Assert.Equal(new Shape(1, 1, 2, 2), y.Shape);
        Assert.Equal([-1f, -2f, -1f, -2f], y.ToArray());   // a zero pad would have won every window
    }

    [Fact]
    public void Asymmetric_average_pool_without_counting_pads_is_refused_by_name()
    {
        var node = With(Node("avg", "AveragePool", ["x"], ["y"]), Ints("kernel_shape", 2, 2), Ints("pads", 1, 1, 0, 0));
        var e = Assert.Throws<ArgumentException>(() => Import(node).Forward(Tensor.Ones(1, 1, 3, 3)));
        Assert.Contains("'avg' (AveragePool)", e.Message);
        Assert.Contains("count_include_pad=0", e.Message);
    }

    [Theory]
    [InlineData(11, 12)]   // before opset 13 Softmax normalizes the input flattened from the axis on: 3·4 values per item
    [InlineData(13, 3)]    // from 13 on, along the axis alone
    public void Softmax_axis_follows_the_opset(long opset, int normalizedCount)
    {
        var node = With(Node("s", "Softmax", ["x"], ["y"]), Int("axis", 1));
        var y = Import(node, opset).Forward(Tensor.Zeros(2, 3, 4));
        Assert.All(y.ToArray(), v => Assert.Equal(1f / normalizedCount, v, 6));
    }

    [Theory]
    [InlineData(0, 1, 24)]
    [InlineData(2, 6, 4)]
    [InlineData(-1, 6, 4)]
    public void Flatten_axis(long axis, int rows, int columns)
    {
        var y = Import(With(Node("f", "Flatten", ["x"], ["y"]), Int("axis", axis))).Forward(Tensor.Zeros(2, 3, 4));
        Assert.Equal(new Shape(rows, columns), y.Shape);
    }

    [Fact]
    public void Gemm_transposes_scales_and_broadcasts_c()
    {
        var node = With(Node("g", "Gemm", ["x", "b", "c"], ["y"]), Int("transA", 1), Float("alpha", 2f), Float("beta", 0.5f));
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 3, 2);    // A = xᵀ: (2, 3)
        var y = Import(node, 13, FloatTensor("b", [3, 1], [1f, 0f, -1f]), FloatTensor("c", [1], [10f])).Forward(x);
        // Aᵀ·b = [1−5, 2−6] = [−4, −4]; 2·(−4) + 0.5·10 = −3
        Assert.Equal([-3f, -3f], y.ToArray());
    }

    [Fact]
    public void Reshape_copies_zero_entries_and_infers_minus_one()
    {
        var y = Import(Node("r", "Reshape", ["x", "shape"], ["y"]), 13, Longs("shape", 0, -1)).Forward(Tensor.Zeros(2, 3, 4));
        Assert.Equal(new Shape(2, 12), y.Shape);
    }

    [Fact]
    public void Pad_with_inputs_crops_negative_pads_and_fills_the_constant()
    {
        var node = Node("p", "Pad", ["x", "pads", "value"], ["y"]);
        var y = Import(node, 13, Longs("pads", 0, 1, 0, -1), FloatTensor("value", [], [7f])).Forward(Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2));
        Assert.Equal([7f, 1f, 7f, 3f], y.ToArray());
    }

    [Fact]
    public void Pad_reflect_is_refused_by_name()
    {
        var node = With(Node("p", "Pad", ["x", "pads"], ["y"]), Text("mode", "reflect"));
        var e = Assert.Throws<InvalidDataException>(() => Import(node, 13, Longs("pads", 1, 1, 1, 1)));
        Assert.Contains("node 'p' (Pad): mode 'reflect' is not supported", e.Message);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(13)]
    public void Clip_bounds_from_attributes_or_inputs(long opset)
    {
        var node = opset < 11 ? With(Node("c", "Clip", ["x"], ["y"]), Float("max", 0.5f)) : Node("c", "Clip", ["x", "", "max"], ["y"]);
        var y = Import(node, opset, opset < 11 ? [] : [FloatTensor("max", [], [0.5f])]).Forward(Tensor.FromArray([-9f, 0.25f, 9f], 3));
        Assert.Equal([-9f, 0.25f, 0.5f], y.ToArray());
    }

    [Fact]
    public void Float_shape_input_computed_by_the_graph_is_a_clear_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => Import(Node("r", "Reshape", ["x", "x"], ["y"])));
        Assert.Contains("node 'r' (Reshape): its shape ('x') is a float tensor computed by the graph", e.Message);
    }

    [Fact]
    public void Dropout_drops_only_in_training_mode()
    {
        var module = Import(With(Node("d", "Dropout", ["x"], ["y"]), Float("ratio", 0.5f)), 9);
        var x = Tensor.Ones(1000);
        Assert.Equal(x.ToArray(), module.Eval().Forward(x).ToArray());
        Assert.Contains(0f, module.Train().Forward(x).ToArray());
    }

    [Fact]
    public void MatMul_of_a_vector_drops_the_added_dimension()
    {
        var y = Import(Node("m", "MatMul", ["x", "w"], ["y"]), 13, FloatTensor("w", [2, 3], [1, 2, 3, 4, 5, 6])).Forward(Tensor.FromArray([1f, 1f], 2));
        Assert.Equal(new Shape(3), y.Shape);
        Assert.Equal([5f, 7f, 9f], y.ToArray());
    }
}
