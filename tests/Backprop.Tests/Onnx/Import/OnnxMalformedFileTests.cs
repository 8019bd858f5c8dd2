using Backprop.Onnx.Import;
using Backprop.Onnx.Proto;
using Google.Protobuf;

namespace Backprop.Tests.Onnx.Import;

/// <summary>Broken .onnx files, built here with the schema's classes, each give an error that names the file and the problem.</summary>
public sealed class OnnxMalformedFileTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("onnx-import-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>x (1, 1, 4, 4) -> Conv(w: 2x1x3x3, b) -> Relu -> y: a model that imports.</summary>
    internal static ModelProto SmallModel()
    {
        var graph = new GraphProto { Name = "small" };
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        graph.Initializer.Add(FloatTensor("w", [2, 1, 3, 3], Enumerable.Range(0, 18).Select(i => i / 18f).ToArray()));
        graph.Initializer.Add(FloatTensor("b", [2], [0.5f, -0.5f]));
        graph.Node.Add(Node("conv", "Conv", ["x", "w", "b"], ["h"]));
        graph.Node.Add(Node("relu", "Relu", ["h"], ["y"]));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    internal static TensorProto FloatTensor(string name, long[] dims, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        return t;
    }

    internal static NodeProto Node(string name, string op, string[] inputs, string[] outputs)
    {
        var n = new NodeProto { Name = name, OpType = op };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        return n;
    }

    private string Write(ModelProto model, string name) => WriteBytes(model.ToByteArray(), name);

    private string WriteBytes(byte[] bytes, string name)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Fails(string path)
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.Import(path));
        Assert.Contains(path, e.Message);
        return e.Message;
    }

    [Fact]
    public void The_small_model_imports_and_runs()
    {
        var module = OnnxImporter.Import(Write(SmallModel(), "ok.onnx"));
        var y = module.Forward(Tensor.Ones(1, 1, 4, 4));
        Assert.Equal(new Shape(1, 2, 2, 2), y.Shape);
        Assert.Equal(0.5f + Enumerable.Range(0, 9).Sum() / 18f, y[0, 0, 0, 0], 5);
    }

    [Fact]
    public void Truncated_file()
    {
        var bytes = SmallModel().ToByteArray();
        Assert.Contains("truncated", Fails(WriteBytes(bytes[..(bytes.Length * 2 / 3)], "truncated.onnx")));
    }

    [Fact]
    public void Garbage_file() => Assert.Contains("not a readable ONNX model", Fails(WriteBytes([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3], "garbage.onnx")));

    [Theory]
    [InlineData(6)]
    [InlineData(99)]
    public void Unsupported_opset(long version)
    {
        var model = SmallModel();
        model.OpsetImport[0].Version = version;
        Assert.Contains($"opset {version} is not supported", Fails(Write(model, "opset.onnx")));
    }

    [Fact]
    public void No_default_opset()
    {
        var model = SmallModel();
        model.OpsetImport[0].Domain = "com.example";
        Assert.Contains("imports no version of the default ONNX operator set", Fails(Write(model, "domain.onnx")));
    }

    [Fact]
    public void Cycle_names_the_nodes()
    {
        var model = SmallModel();
        model.Graph.Node[0].Input[0] = "y";   // conv reads relu's output, relu reads conv's
        var message = Fails(Write(model, "cycle.onnx"));
        Assert.Contains("cycle", message);
        Assert.Contains("'conv' (Conv)", message);
        Assert.Contains("'relu' (Relu)", message);
    }

    [Fact]
    public void Nodes_out_of_order_are_sorted()
    {
        var model = SmallModel();
        var relu = model.Graph.Node[1];
        model.Graph.Node.RemoveAt(1);
        model.Graph.Node.Insert(0, relu);
        var y = OnnxImporter.Import(Write(model, "reordered.onnx")).Forward(Tensor.Ones(1, 1, 4, 4));
        Assert.Equal(new Shape(1, 2, 2, 2), y.Shape);
    }

    [Fact]
    public void Missing_input()
    {
        var model = SmallModel();
        model.Graph.Node[1].Input[0] = "nowhere";
        Assert.Contains("'relu' (Relu) reads 'nowhere', which no graph input, initializer or node defines", Fails(Write(model, "missing.onnx")));
    }

    [Fact]
    public void Omitted_required_input()
    {
        var model = SmallModel();
        model.Graph.Node[0].Input[1] = "";   // the weight left out
        Assert.Contains("node 'conv' (Conv): input 1 is missing", Fails(Write(model, "omitted.onnx")));
    }

    [Fact]
    public void Tensor_size_disagrees_with_its_data()
    {
        var model = SmallModel();
        model.Graph.Initializer[0].FloatData.RemoveAt(0);
        Assert.Contains("initializer 'w': its shape holds 18 elements (18 float_data values), but the file stores 17", Fails(Write(model, "short.onnx")));
    }

    [Fact]
    public void Raw_data_size_disagrees_with_dims()
    {
        var model = SmallModel();
        var w = model.Graph.Initializer[0];
        w.FloatData.Clear();
        w.RawData = ByteString.CopyFrom(new byte[18 * 4 + 2]);
        Assert.Contains("74 raw_data bytes", Fails(Write(model, "raw.onnx")));
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(1L << 40)]
    [InlineData(-3L)]
    public void Huge_or_negative_dimension_is_refused_before_allocating(long dim)
    {
        var model = SmallModel();
        var w = model.Graph.Initializer[0];
        w.Dims.Clear();
        w.Dims.AddRange([dim, dim, 1, 1]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var message = Fails(Write(model, "huge.onnx"));
        Assert.Contains(dim < 0 ? "negative dimension" : "more than the", message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the importer allocated by the declared size");
    }

    [Fact]
    public void External_data_is_refused()
    {
        var model = SmallModel();
        model.Graph.Initializer[0].DataLocation = TensorProto.Types.DataLocation.External;
        Assert.Contains("external data is not supported", Fails(Write(model, "external.onnx")));
    }

    [Fact]
    public void Every_unsupported_operator_is_listed_at_once()
    {
        var model = SmallModel();
        model.Graph.Node.Add(Node("g1", "GatherND", ["y", "b"], ["g"]));
        model.Graph.Node.Add(Node("s1", "NonZero", ["g"], ["s"]));
        model.Graph.Node.Add(Node("g2", "GatherND", ["y", "s"], ["t"]));
        var custom = Node("fused", "FusedConv", ["t"], ["u"]);
        custom.Domain = "com.microsoft";
        model.Graph.Node.Add(custom);
        var message = Fails(Write(model, "ops.onnx"));
        Assert.Contains("3 operator type(s) cannot be imported", message);
        Assert.Contains("GatherND x2 ('g1', 'g2')", message);
        Assert.Contains("NonZero x1 ('s1')", message);
        Assert.Contains("com.microsoft.FusedConv x1 ('fused')", message);
    }

    [Fact]
    public void Unsupported_attribute_names_the_node()
    {
        var model = SmallModel();
        model.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1 } });
        Assert.Contains("node 'conv' (Conv): pads has 3 values", Fails(Write(model, "pads.onnx")));
    }
}
