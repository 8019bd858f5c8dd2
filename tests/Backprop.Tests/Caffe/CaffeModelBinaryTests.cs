using System.Buffers.Binary;
using System.Text;
using Backprop.Caffe.Proto;
using Google.Protobuf;

namespace Backprop.Tests.Caffe;

/// <summary>
/// The binary side of caffe.proto: .caffemodel files are a serialized NetParameter. The hand-built
/// bytes below use field numbers written here as literals, so they check the schema's numbers
/// against Caffe's independently of the schema file.
/// </summary>
public class CaffeModelBinaryTests
{
    private const int WireVarint = 0, WireLengthDelimited = 2;

    [Fact]
    public void NetWithWeightsRoundTripsThroughBytes()
    {
        var conv = new LayerParameter { Name = "conv1", Type = "Convolution" };
        conv.Bottom.Add("data");
        conv.Top.Add("conv1");
        conv.ConvolutionParam = new ConvolutionParameter { NumOutput = 2 };
        conv.ConvolutionParam.KernelSize.Add(1);
        var weight = new BlobProto { Shape = new BlobShape() };
        weight.Shape.Dim.Add(new long[] { 2, 3, 1, 1 });
        weight.Data.Add(new[] { 0.5f, -1.25f, 3f, float.Epsilon, -0f, 1e30f });
        var bias = new BlobProto { Shape = new BlobShape() };
        bias.Shape.Dim.Add(2);
        bias.Data.Add(new[] { 0.1f, -0.2f });
        conv.Blobs.Add(weight);
        conv.Blobs.Add(bias);
        var net = new NetParameter { Name = "weights" };
        net.Layer.Add(conv);

        byte[] bytes = net.ToByteArray();
        NetParameter back = NetParameter.Parser.ParseFrom(bytes);

        Assert.Equal(net, back);
        Assert.Equal(new long[] { 2, 3, 1, 1 }, back.Layer[0].Blobs[0].Shape.Dim);
        Assert.Equal(new[] { 0.5f, -1.25f, 3f, float.Epsilon, -0f, 1e30f }, back.Layer[0].Blobs[0].Data);
        Assert.True(float.IsNegative(back.Layer[0].Blobs[0].Data[4]));
        Assert.Equal(new[] { 0.1f, -0.2f }, back.Layer[0].Blobs[1].Data);
        Assert.Equal(2u, back.Layer[0].ConvolutionParam.NumOutput);
    }

    [Fact]
    public void HandBuiltCaffemodelBytesParse()
    {
        // BlobShape { dim = 1 (packed int64) }
        byte[] shape = Field(1, WireLengthDelimited, Varints(2, 3));
        // BlobProto { data = 5 (packed float), shape = 7 }
        float[] values = { 1f, -2f, 0.5f, 0.25f, 1e-3f, 6f };
        byte[] blob = Concat(Field(5, WireLengthDelimited, Floats(values)), Field(7, WireLengthDelimited, shape));
        // LayerParameter { name = 1, type = 2, blobs = 7 }
        byte[] layer = Concat(
            Field(1, WireLengthDelimited, Encoding.UTF8.GetBytes("ip1")),
            Field(2, WireLengthDelimited, Encoding.UTF8.GetBytes("InnerProduct")),
            Field(7, WireLengthDelimited, blob));
        // NetParameter { name = 1, layer = 100 }
        byte[] model = Concat(
            Field(1, WireLengthDelimited, Encoding.UTF8.GetBytes("hand")),
            Field(100, WireLengthDelimited, layer));
        Assert.Equal(new byte[] { 0xA2, 0x06 }, Varints(100 << 3 | WireLengthDelimited)); // the tag for field 100 takes two bytes

        NetParameter net = NetParameter.Parser.ParseFrom(model);

        Assert.Equal("hand", net.Name);
        LayerParameter ip1 = Assert.Single(net.Layer);
        Assert.Equal(("ip1", "InnerProduct"), (ip1.Name, ip1.Type));
        BlobProto parsed = Assert.Single(ip1.Blobs);
        Assert.Equal(new long[] { 2, 3 }, parsed.Shape.Dim);
        Assert.Equal(values, parsed.Data);
        Assert.Empty(net.Layers); // nothing landed in the legacy V1 list (field 2)

        // Written back, the bytes are the same: Google.Protobuf writes fields in number order, as built here.
        Assert.Equal(model, net.ToByteArray());
    }

    [Fact]
    public void LegacyBlobDimensionsAndUnpackedFloatsParse()
    {
        // BlobProto { num = 1, channels = 2, height = 3, width = 4 } as varints, and data = 5 written
        // unpacked (one fixed32 per value), which old writers produced and parsers must accept.
        byte[] blob = Concat(
            Field(1, WireVarint, Varints(1)),
            Field(2, WireVarint, Varints(2)),
            Field(3, WireVarint, Varints(1)),
            Field(4, WireVarint, Varints(1)),
            Tag(5, 5), Floats(1.5f),
            Tag(5, 5), Floats(-3f));

        BlobProto parsed = BlobProto.Parser.ParseFrom(blob);

        Assert.Equal((1, 2, 1, 1), (parsed.Num, parsed.Channels, parsed.Height, parsed.Width));
        Assert.Null(parsed.Shape);
        Assert.Equal(new[] { 1.5f, -3f }, parsed.Data);
    }

    [Fact]
    public void HandBuiltDatumParses()
    {
        // Datum { channels = 1, height = 2, width = 3, data = 4, label = 5 }: an LMDB record.
        byte[] pixels = { 0, 255, 17, 34, 51, 68 };
        byte[] record = Concat(
            Field(1, WireVarint, Varints(1)),
            Field(2, WireVarint, Varints(2)),
            Field(3, WireVarint, Varints(3)),
            Field(4, WireLengthDelimited, pixels),
            Field(5, WireVarint, Varints(7)));

        Datum datum = Datum.Parser.ParseFrom(record);

        Assert.Equal((1, 2, 3, 7), (datum.Channels, datum.Height, datum.Width, datum.Label));
        Assert.Equal(pixels, datum.Data.ToByteArray());
        Assert.False(datum.Encoded);
    }

    [Fact]
    public void SolverStateFieldNumbersMatchCaffe()
    {
        // SolverState { iter = 1, learned_net = 2, history = 3, current_step = 4 }
        byte[] history = Field(5, WireLengthDelimited, Floats(0.5f));
        byte[] state = Concat(
            Field(1, WireVarint, Varints(5000)),
            Field(2, WireLengthDelimited, Encoding.UTF8.GetBytes("lenet_iter_5000.caffemodel")),
            Field(3, WireLengthDelimited, history),
            Field(4, WireVarint, Varints(2)));

        SolverState parsed = SolverState.Parser.ParseFrom(state);

        Assert.Equal(5000, parsed.Iter);
        Assert.Equal("lenet_iter_5000.caffemodel", parsed.LearnedNet);
        Assert.Equal(new[] { 0.5f }, Assert.Single(parsed.History).Data);
        Assert.Equal(2, parsed.CurrentStep);
        Assert.Equal(state, parsed.ToByteArray());
    }

    private static byte[] Tag(int field, int wireType) => Varints((ulong)(field << 3 | wireType));

    private static byte[] Field(int field, int wireType, byte[] payload) => wireType == WireLengthDelimited
        ? Concat(Tag(field, wireType), Varints((ulong)payload.Length), payload)
        : Concat(Tag(field, wireType), payload);

    // Base-128 varints, least significant group first, high bit set on all but the last byte.
    private static byte[] Varints(params ulong[] values)
    {
        var bytes = new List<byte>();
        foreach (ulong v in values)
        {
            ulong rest = v;
            while (rest >= 0x80)
            {
                bytes.Add((byte)(rest & 0x7F | 0x80));
                rest >>= 7;
            }
            bytes.Add((byte)rest);
        }
        return bytes.ToArray();
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
