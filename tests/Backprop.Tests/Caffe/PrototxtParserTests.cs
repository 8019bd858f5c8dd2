using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Tests.Caffe;

public class PrototxtParserTests
{
    [Fact]
    public void EmptyTextAndCommentsOnlyGiveAnEmptyMessage()
    {
        Assert.Equal(new NetParameter(), Prototxt.Parse<NetParameter>(""));
        Assert.Equal(new NetParameter(), Prototxt.Parse<NetParameter>("# nothing here\n   \n\t# still nothing"));
    }

    [Fact]
    public void CommentsRunToTheEndOfTheLineAnywhere()
    {
        var net = Prototxt.Parse<NetParameter>("""
            # heading
            name: "a#b"  # a '#' inside quotes is text
            layer { # opening
              name: "x" # trailing
            } # closing
            """);
        Assert.Equal("a#b", net.Name);
        Assert.Equal("x", Assert.Single(net.Layer).Name);
    }

    [Theory]
    [InlineData("layer { name: \"x\" }")]
    [InlineData("layer: { name: \"x\" }")]
    [InlineData("layer < name: \"x\" >")]
    [InlineData("layer: < name: \"x\" >")]
    [InlineData("layer{name:\"x\"}")]
    public void SubmessagesTakeEveryBlockForm(string text)
    {
        Assert.Equal("x", Assert.Single(Prototxt.Parse<NetParameter>(text).Layer).Name);
    }

    [Fact]
    public void RepeatedFieldsTakeRepetitionAndListsAndMixTheTwo()
    {
        var layer = Prototxt.Parse<LayerParameter>("""
            bottom: "a"
            bottom: ["b", 'c']
            bottom: "d"
            top: []
            loss_weight: [1, 0.5, 2e-1]
            param [{ lr_mult: 1 }, { lr_mult: 2 }]
            param: [{ name: "w" }]
            param { decay_mult: 0 }
            """);
        Assert.Equal(new[] { "a", "b", "c", "d" }, layer.Bottom);
        Assert.Empty(layer.Top);
        Assert.Equal(new[] { 1f, 0.5f, 0.2f }, layer.LossWeight);
        Assert.Equal(4, layer.Param.Count);
        Assert.Equal(new[] { 1f, 2f }, layer.Param.Take(2).Select(p => p.LrMult));
        Assert.Equal("w", layer.Param[2].Name);
        Assert.Equal(0f, layer.Param[3].DecayMult);
        Assert.True(layer.Param[3].HasDecayMult);
    }

    [Fact]
    public void EnumsReadByNameOrByNumber()
    {
        var pool = Prototxt.Parse<PoolingParameter>("pool: AVE engine: 2 round_mode: FLOOR");
        Assert.Equal(PoolingParameter.Types.PoolMethod.Ave, pool.Pool);
        Assert.Equal(PoolingParameter.Types.Engine.Cudnn, pool.Engine);
        Assert.Equal(PoolingParameter.Types.RoundMode.Floor, pool.RoundMode);

        var hinge = Prototxt.Parse<HingeLossParameter>("norm: L2");
        Assert.Equal(HingeLossParameter.Types.Norm.L2, hinge.Norm);
        var rule = Prototxt.Parse<NetStateRule>("phase: 1");
        Assert.Equal(Phase.Test, rule.Phase);
    }

    [Fact]
    public void StringsTakeEitherQuoteAndAdjacentPiecesJoin()
    {
        var layer = Prototxt.Parse<LayerParameter>("""
            name: 'single "inner" quotes'
            type: "double 'inner' quotes"
            bottom: "join" 'ed' "  " "text"
            top: ""
            """);
        Assert.Equal("single \"inner\" quotes", layer.Name);
        Assert.Equal("double 'inner' quotes", layer.Type);
        Assert.Equal("joined  text", Assert.Single(layer.Bottom));
        Assert.Equal("", Assert.Single(layer.Top));
        Assert.True(layer.HasName);
    }

    [Fact]
    public void StringEscapesFollowC()
    {
        var layer = Prototxt.Parse<LayerParameter>("""
            name: "n\n t\t b\\ q\' d\" x\x41\x7a o\101\60 a\a e\?"
            type: "caf\u00e9 \303\251"
            """);
        Assert.Equal("n\n t\t b\\ q' d\" xAz oA0 a\a e?", layer.Name);
        Assert.Equal("café é", layer.Type); // \u escape and UTF-8 written as octal bytes
    }

    [Fact]
    public void BytesFieldsKeepArbitraryBytes()
    {
        var datum = Prototxt.Parse<Datum>("data: \"\\000\\377\\x80A\" channels: 1");
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x80, (byte)'A' }, datum.Data.ToByteArray());
    }

    [Fact]
    public void NonAsciiTextInStringsIsKept()
    {
        Assert.Equal("réseau 網", Prototxt.Parse<NetParameter>("name: \"réseau 網\"").Name);
    }

    [Fact]
    public void IntegersTakeDecimalHexOctalAndSign()
    {
        var conv = Prototxt.Parse<ConvolutionParameter>("num_output: 0x1F kernel_size: 3 pad: 010 stride: 0 axis: -1 group: 4294967295");
        Assert.Equal(31u, conv.NumOutput);
        Assert.Equal(new uint[] { 3 }, conv.KernelSize);
        Assert.Equal(new uint[] { 8 }, conv.Pad); // leading 0 is octal, as in protobuf
        Assert.Equal(new uint[] { 0 }, conv.Stride);
        Assert.Equal(-1, conv.Axis);
        Assert.Equal(uint.MaxValue, conv.Group);

        var solver = Prototxt.Parse<SolverParameter>("random_seed: -9223372036854775808 device_id: -2147483648 max_iter: 2147483647");
        Assert.Equal(long.MinValue, solver.RandomSeed);
        Assert.Equal(int.MinValue, solver.DeviceId);
        Assert.Equal(int.MaxValue, solver.MaxIter);

        var shape = Prototxt.Parse<BlobShape>("dim: 9223372036854775807 dim: -0x10 dim: - 3");
        Assert.Equal(new[] { long.MaxValue, -16L, -3L }, shape.Dim);
    }

    [Fact]
    public void FloatsTakeExponentsSuffixesIntegersAndSpecialValues()
    {
        var layer = Prototxt.Parse<LayerParameter>("""
            loss_weight: [1e-5, 2.5E+3, 1.5f, 3F, .5, 5., 7, 0x10, -0.25, -2e-3f]
            loss_weight: [inf, -inf, Infinity, -INFINITY, INF]
            """);
        Assert.Equal(new[] { 1e-5f, 2500f, 1.5f, 3f, 0.5f, 5f, 7f, 16f, -0.25f, -0.002f }, layer.LossWeight.Take(10));
        Assert.Equal(
            new[] { float.PositiveInfinity, float.NegativeInfinity, float.PositiveInfinity, float.NegativeInfinity, float.PositiveInfinity },
            layer.LossWeight.Skip(10));

        var nan = Prototxt.Parse<LayerParameter>("loss_weight: nan loss_weight: NaN loss_weight: -nan");
        Assert.All(nan.LossWeight, w => Assert.True(float.IsNaN(w)));

        var blob = Prototxt.Parse<BlobProto>("double_data: 0.1 double_data: 1e300");
        Assert.Equal(new[] { 0.1, 1e300 }, blob.DoubleData); // read in double precision, not through float
    }

    [Fact]
    public void BoolsTakeEveryProtobufSpelling()
    {
        var layer = Prototxt.Parse<LayerParameter>("propagate_down: [true, True, t, 1, false, False, f, 0]");
        Assert.Equal(new[] { true, true, true, true, false, false, false, false }, layer.PropagateDown);
    }

    [Fact]
    public void SemicolonsAndCommasMaySeparateFields()
    {
        var layer = Prototxt.Parse<LayerParameter>("name: \"a\"; type: \"b\", bottom: \"c\";");
        Assert.Equal(("a", "b", "c"), (layer.Name, layer.Type, layer.Bottom[0]));
        var net = Prototxt.Parse<NetParameter>("layer { name: \"x\"; }, layer { name: \"y\", };");
        Assert.Equal(new[] { "x", "y" }, net.Layer.Select(l => l.Name));
    }

    [Fact]
    public void DeprecatedAndNestedFieldsReadToo()
    {
        var net = Prototxt.Parse<NetParameter>("""
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 227 dim: 227 }
            input_dim: [1, 3]
            force_backward: true
            state { phase: TRAIN level: 2 stage: "deploy" }
            layer {
              name: "clip" type: "Clip" clip_param { min: -1 max: 1 }
              exclude { not_stage: "x" min_level: 1 }
            }
            """);
        Assert.Equal(new long[] { 1, 3, 227, 227 }, Assert.Single(net.InputShape).Dim);
        Assert.Equal(new[] { 1, 3 }, net.InputDim);
        Assert.Equal(Phase.Train, net.State.Phase);
        Assert.Equal(2, net.State.Level);
        Assert.Equal((-1f, 1f), (net.Layer[0].ClipParam.Min, net.Layer[0].ClipParam.Max));
        Assert.Equal("x", net.Layer[0].Exclude[0].NotStage[0]);
    }

    [Fact]
    public void SolverCanHoldAnInlineNet()
    {
        var solver = Prototxt.Parse<SolverParameter>("""
            net_param { name: "inline" layer { name: "l" type: "Input" input_param { shape { dim: 2 } } } }
            test_state { stage: "val" }
            type: "Adam"
            weights: "a.caffemodel"
            weights: "b.caffemodel"
            solver_type: ADAM
            """);
        Assert.Equal("inline", solver.NetParam.Name);
        Assert.Equal(new long[] { 2 }, solver.NetParam.Layer[0].InputParam.Shape[0].Dim);
        Assert.Equal("val", solver.TestState[0].Stage[0]);
        Assert.Equal(new[] { "a.caffemodel", "b.caffemodel" }, solver.Weights);
        Assert.Equal(SolverParameter.Types.SolverType.Adam, solver.SolverType);
    }

    [Fact]
    public void WindowsLineEndingsAndAByteOrderMarkAreAccepted()
    {
        var net = Prototxt.Parse<NetParameter>("\uFEFFname: \"a\"\r\nlayer {\r\n  name: \"b\"\r\n}\r\n");
        Assert.Equal(("a", "b"), (net.Name, net.Layer[0].Name));
    }
}
