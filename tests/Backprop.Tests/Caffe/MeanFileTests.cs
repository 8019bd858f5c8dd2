using Backprop.Caffe;
using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using Backprop.Tests.IO;
using CsCheck;
using Google.Protobuf;

namespace Backprop.Tests.Caffe;

/// <summary>transform_param's mean_file: a per-pixel mean image read from a .binaryproto, taken at each pixel's source position.</summary>
public sealed class MeanFileTests : IDisposable
{
    // One 2-channel 3x3 image: channel c, pixel (y, x) = 100c + 10y + x; the mean at the same place is c + y + x / 10.
    private static readonly float[] Pixels = [.. Enumerable.Range(0, 18).Select(i => (float)(100 * (i / 9) + 10 * (i % 9 / 3) + i % 3))];
    private static readonly float[] Mean = [.. Enumerable.Range(0, 18).Select(i => i / 9 + i % 9 / 3 + i % 3 / 10f)];

    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private string WriteMean(float[] values, int channels = 2, int height = 3, int width = 3)
    {
        string path = dir.File("mean.binaryproto");
        var blob = new BlobProto { Num = 1, Channels = channels, Height = height, Width = width };
        blob.Data.Add(values);
        File.WriteAllBytes(path, blob.ToByteArray());
        return path;
    }

    private static float Expected(int c, int y, int x, float scale) => (100 * c + 10 * y + x - (c + y + x / 10f)) * scale;

    [Fact]
    public void SubtractsThePixelsOwnMeanThenScales()
    {
        var t = new DataTransformer(new TransformationParameter { MeanFile = WriteMean(Mean), Scale = 0.5f }, "here");
        t.Setup(2, 3, 3);
        var output = new float[18];
        t.Transform(Pixels, output, new Generator(1), training: true);
        for (int i = 0; i < 18; i++) Assert.Equal(Expected(i / 9, i % 9 / 3, i % 3, 0.5f), output[i]);
    }

    [Fact]
    public void ACropAndAFlipTakeTheMeanAtTheSourcePixel()
    {
        var t = new DataTransformer(new TransformationParameter { MeanFile = WriteMean(Mean), CropSize = 2, Mirror = true }, "here");
        t.Setup(2, 3, 3);
        bool flipped = false, unflipped = false;
        for (ulong seed = 0; seed < 20; seed++)
        {
            var draws = new Generator(seed);
            int top = draws.NextInt(2), left = draws.NextInt(2);
            bool flip = draws.NextInt(2) == 1;
            (flipped, unflipped) = (flipped || flip, unflipped || !flip);
            var output = new float[8];
            t.Transform(Pixels, output, new Generator(seed), training: true);
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 2; y++)
                    for (int x = 0; x < 2; x++)
                        Assert.Equal(Expected(c, top + y, left + (flip ? 1 - x : x), 1), output[(c * 2 + y) * 2 + x]);
        }
        Assert.True(flipped && unflipped);
        // TEST: the centred crop.
        var centre = new float[8];
        t.Transform(Pixels, centre, new Generator(0), training: false);
        Assert.Equal(Expected(1, 1, 1, 1), centre[7]);
    }

    [Fact]
    public void TheDeprecatedLayerFieldIsUsedWhenTransformParamHasNone()
    {
        var t = new DataTransformer(null, "here", meanFile: WriteMean(Mean));
        t.Setup(2, 3, 3);
        var output = new float[18];
        t.Transform(Pixels, output, new Generator(1), training: false);
        Assert.Equal(Expected(1, 2, 2, 1), output[17]);
    }

    [Fact]
    public void AMeanOfAnotherSizeIsRefusedNamingBothSizes()
    {
        var t = new DataTransformer(new TransformationParameter { MeanFile = WriteMean(new float[8], 2, 2, 2) }, "Layer 'data' (type Data)");
        var e = Assert.Throws<CaffeNetException>(() => t.Setup(2, 3, 3));
        Assert.Contains("Layer 'data' (type Data): the mean file", e.Message);
        Assert.Contains("2x2x2 image but the data is 2x3x3", e.Message);
    }

    [Fact]
    public void MeanFileAndMeanValueTogetherAreRefused()
    {
        var transform = new TransformationParameter { MeanFile = WriteMean(Mean), MeanValue = { 3 } };
        Assert.Contains("mean_file or mean_value, not both", Assert.Throws<CaffeNetException>(() => new DataTransformer(transform, "here")).Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0xFF }, "not a valid binary mean file")]              // a truncated length-delimited field
    [InlineData(new byte[] { 0x08, 0x01, 0x10, 0x02 }, "has shape 1 x 2 x 0 x 0; a mean image") // num 1, channels 2, no height or width
    ]
    public void AMalformedBinaryprotoIsAClearErrorNamingTheFile(byte[] bytes, string expected)
    {
        string path = dir.File("bad.binaryproto");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CaffeNetException>(() => new DataTransformer(new TransformationParameter { MeanFile = path }, "Layer 'data' (type Data)"));
        Assert.Contains(path, e.Message);
        Assert.Contains("Layer 'data' (type Data)", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AShapeThatClaimsMoreValuesThanTheFileHoldsIsRefused()
    {
        var blob = new BlobProto { Shape = new BlobShape { Dim = { 1, 3, 100000, 100000 } } };
        blob.Data.Add([1f, 2f]);
        string path = dir.File("big.binaryproto");
        File.WriteAllBytes(path, blob.ToByteArray());
        var e = Assert.Throws<CaffeNetException>(() => MeanImage.Load(path));
        Assert.Contains($"{path}: the mean file's blob has shape 1 x 3 x 100000 x 100000 but holds 2 values", e.Message);
    }

    [Fact]
    public void AMissingMeanFileIsNamed()
    {
        string path = dir.File("none.binaryproto");
        Assert.Contains($"{path}: no such file", Assert.Throws<CaffeNetException>(() => MeanImage.Load(path)).Message);
    }

    [Fact]
    public void AnyDamageToAMeanFileLoadsOrIsACaffeNetExceptionNamingIt()
    {
        string path = WriteMean(Mean);
        byte[] good = File.ReadAllBytes(path);
        var damage = Gen.Select(Gen.Int[0, good.Length - 1], Gen.Byte, Gen.Int[0, good.Length], (at, value, keep) => (at, value, keep));
        damage.Array[1, 4].Sample(changes =>
        {
            var bytes = (byte[])good.Clone();
            foreach (var (at, value, _) in changes) bytes[at] = value;
            File.WriteAllBytes(path, bytes[..changes[0].keep]);   // changed, and maybe cut short
            try
            {
                var mean = MeanImage.Load(path);
                Assert.Equal((long)mean.Channels * mean.Height * mean.Width, mean.Values.Length);
            }
            catch (CaffeNetException e)
            {
                Assert.Contains(path, e.Message);
            }
        }, iter: 300);
    }
}
