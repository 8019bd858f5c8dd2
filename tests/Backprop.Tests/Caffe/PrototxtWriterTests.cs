using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Google.Protobuf;

namespace Backprop.Tests.Caffe;

public class PrototxtWriterTests
{
    [Fact]
    public void WritesSetFieldsInFieldNumberOrderWithTwoSpaceIndent()
    {
        var net = new NetParameter { Name = "tiny" };
        var layer = new LayerParameter { Name = "pool1", Type = "Pooling" };
        layer.Bottom.Add("conv1");
        layer.Top.Add("pool1");
        // Set out of order on purpose: the text follows field numbers (stride 3, kernel_size 2, pool 1).
        layer.PoolingParam = new PoolingParameter { Stride = 2, KernelSize = 3, Pool = PoolingParameter.Types.PoolMethod.Ave };
        net.Layer.Add(layer);
        net.ForceBackward = false; // set, so written, even though it equals the default

        Assert.Equal("""
            name: "tiny"
            force_backward: false
            layer {
              name: "pool1"
              type: "Pooling"
              bottom: "conv1"
              top: "pool1"
              pooling_param {
                pool: AVE
                kernel_size: 3
                stride: 2
              }
            }

            """, Prototxt.Format(net));
    }

    [Fact]
    public void EmptyMessageWritesNothingAndEmptySubmessageWritesABlock()
    {
        Assert.Equal("", Prototxt.Format(new NetParameter()));
        Assert.Equal("state {\n}\n", Prototxt.Format(new NetParameter { State = new NetState() }));
    }

    [Fact]
    public void NumbersUseInvariantShortestForms()
    {
        var solver = new SolverParameter
        {
            BaseLr = 0.01f,
            Delta = 1e-8f,
            Gamma = 1e20f,
            ClipGradients = float.PositiveInfinity,
            Momentum = float.NegativeInfinity,
            WeightDecay = float.NaN,
            RandomSeed = long.MinValue,
            MaxIter = -5,
        };
        string text = Prototxt.Format(solver);
        Assert.Contains("base_lr: 0.01\n", text);
        Assert.Contains("delta: 1e-08\n", text);
        Assert.Contains("gamma: 1e+20\n", text);
        Assert.Contains("clip_gradients: inf\n", text);
        Assert.Contains("momentum: -inf\n", text);
        Assert.Contains("weight_decay: nan\n", text);
        Assert.Contains("random_seed: -9223372036854775808\n", text);
        Assert.Contains("max_iter: -5\n", text);
        Assert.Equal(solver, Prototxt.Parse<SolverParameter>(text));
    }

    [Fact]
    public void StringsAndBytesAreEscapedAndReadBack()
    {
        var layer = new LayerParameter { Name = "q\"uote' back\\slash\nline\ttab\u0001 café" };
        string text = Prototxt.Format(layer);
        Assert.Equal("name: \"q\\\"uote\\' back\\\\slash\\nline\\ttab\\001 café\"\n", text);
        Assert.Equal(layer, Prototxt.Parse<LayerParameter>(text));

        var datum = new Datum { Data = ByteString.CopyFrom(0, 1, 0x7F, 0x80, 0xFF, (byte)'a') };
        string bytes = Prototxt.Format(datum);
        Assert.Equal("data: \"\\000\\001\\177\\200\\377a\"\n", bytes);
        Assert.Equal(datum, Prototxt.Parse<Datum>(bytes));
    }

    [Fact]
    public void RepeatedValuesAndEnumsRoundTrip()
    {
        var net = Prototxt.Parse<NetParameter>("""
            layer {
              name: "c" type: "Convolution"
              propagate_down: [true, false]
              loss_weight: [0.5, 1e-3]
              param { share_mode: PERMISSIVE }
              convolution_param { pad: [1, 2] engine: CUDNN weight_filler { type: "msra" variance_norm: AVERAGE } }
              blobs { shape { dim: [2, 3] } data: [1, -2.5, 3e-7] double_diff: [0.1] }
            }
            """);
        string text = Prototxt.Format(net);
        Assert.Contains("    engine: CUDNN\n", text);
        Assert.Contains("      variance_norm: AVERAGE\n", text);
        Assert.Contains("  propagate_down: true\n  propagate_down: false\n", text);
        Assert.Equal(net, Prototxt.Parse<NetParameter>(text));
    }
}
