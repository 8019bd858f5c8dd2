using Backprop.Detection;

namespace Backprop.Tests.Detection;

/// <summary>BoxCoder against torchvision 0.14 (numbers from Fixtures/make_detection_fixtures.py) and its own inverse.</summary>
public class BoxCoderTests
{
    private static readonly float[] Proposals = [10, 20, 50, 60,   0, 0, 15.5f, 7.25f,   100, 40, 130, 200];
    private static readonly float[] GroundTruth = [12, 18, 55, 70,   1, -2, 14, 9,   90, 35, 140, 180];
    private static readonly float[] Deltas =
    [
        0.1f, -0.2f, 0.3f, -0.4f,     1.0f, 2.0f, 10.0f, -10.0f,
        -0.5f, 0.25f, 0.0f, 0.7f,     0.0f, 0.0f, 0.0f, 0.0f,
        2.0f, -1.5f, -3.0f, 5.0f,     -0.01f, 0.02f, 0.5f, 1e6f,
    ];

    private static void AssertClose(float[] expected, float[] actual, float relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = relative * MathF.Max(1f, MathF.Abs(expected[i]));
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tol, $"{what}: element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tol})");
        }
    }

    [Fact]
    public void EncodeMatchesTorchvision()
    {
        var g = Tensor.FromArray(GroundTruth, 3, 4);
        var p = Tensor.FromArray(Proposals, 3, 4);
        AssertClose(
        [
            0.0874999985f, 0.100000001f, 0.0723207071f, 0.262364239f,
            -0.0161290318f, -0.0172413792f, -0.175890699f, 0.41689378f,
            0f, -0.078125f, 0.510825574f, -0.0984400734f,
        ], new BoxCoder((1, 1, 1, 1)).Encode(g, p).ToArray(), 1e-6f, "encode (1, 1, 1, 1)");
        AssertClose(
        [
            0.875f, 1f, 0.361603528f, 1.31182122f,
            -0.161290318f, -0.172413796f, -0.87945348f, 2.08446884f,
            0f, -0.78125f, 2.55412793f, -0.492200375f,
        ], new BoxCoder((10, 10, 5, 5)).Encode(g, p).ToArray(), 1e-6f, "encode (10, 10, 5, 5)");
    }

    [Fact]
    public void DecodeMatchesTorchvisionIncludingTheClamp()
    {
        var d = Tensor.FromArray(Deltas, 3, 8);
        var p = Tensor.FromArray(Proposals, 3, 4);
        // Row 0's second set has dw = 10 and row 2's dh = 1e6: both clamped at ln(1000/16).
        AssertClose(
        [
            7.00282478f, 18.5935993f, 60.9971771f, 45.4064026f,   -1180.00012f, 119.999092f, 1320.00012f, 120.000908f,
            -7.75f, -1.86235332f, 7.75f, 12.7373533f,             0f, 0f, 15.5f, 7.25f,
            174.253189f, -5120.00049f, 175.746811f, 4880.00049f,  89.9691772f, -4876.80029f, 139.430817f, 5123.20068f,
        ], new BoxCoder((1, 1, 1, 1)).Decode(d, p).ToArray(), 1e-6f, "decode (1, 1, 1, 1)");
        AssertClose(
        [
            9.16326714f, 20.7376747f, 51.636734f, 57.6623268f,    -113.781128f, 45.293293f, 181.781128f, 50.706707f,
            -0.775000095f, -0.363492489f, 14.7250004f, 7.97599268f, 0f, 0f, 15.5f, 7.25f,
            112.767822f, -121.46254f, 129.232178f, 313.462524f,   98.3924408f, -4879.68066f, 131.547562f, 5120.32031f,
        ], new BoxCoder((10, 10, 5, 5)).Decode(d, p).ToArray(), 1e-6f, "decode (10, 10, 5, 5)");
    }

    [Theory]
    [InlineData(1f, 1f, 1f, 1f)]
    [InlineData(10f, 10f, 5f, 5f)]
    public void DecodeInvertsEncodeOnRandomBoxes(float wx, float wy, float ww, float wh)
    {
        var rng = new Generator(1234);
        const int n = 500;
        var g = new float[n * 4];
        var p = new float[n * 4];
        foreach (var b in new[] { g, p })
            for (int i = 0; i < n; i++)
            {
                // Sides in [4, 200): ratios stay below the clamp's 62.5.
                float x = rng.NextFloat() * 600 - 50, y = rng.NextFloat() * 600 - 50;
                b[4 * i] = x;
                b[4 * i + 1] = y;
                b[4 * i + 2] = x + 4 + rng.NextFloat() * 196;
                b[4 * i + 3] = y + 4 + rng.NextFloat() * 196;
            }
        var coder = new BoxCoder((wx, wy, ww, wh));
        var proposals = Tensor.FromArray(p, n, 4);
        var decoded = coder.Decode(coder.Encode(Tensor.FromArray(g, n, 4), proposals), proposals).ToArray();
        AssertClose(g, decoded, 1e-4f, $"decode(encode) weights ({wx}, {wy}, {ww}, {wh})");
    }

    [Fact]
    public void HugeAndInfiniteDeltasDecodeToFiniteBoxes()
    {
        var p = Tensor.FromArray([0, 0, 10, 20], 1, 4);
        float[] d = [0, 0, float.PositiveInfinity, 1e30f,   0, 0, float.NegativeInfinity, float.NegativeInfinity];
        var y = new BoxCoder((1, 1, 1, 1)).Decode(Tensor.FromArray(d, 1, 8), p).ToArray();
        Assert.All(y, v => Assert.True(float.IsFinite(v), $"{v} is not finite"));
        // Clamped: width 10 * 62.5 = 625, height 20 * 62.5 = 1250 around the centre (5, 10); -inf gives a point.
        AssertClose([5 - 312.5f, 10 - 625, 5 + 312.5f, 10 + 625,   5, 10, 5, 10], y, 1e-5f, "clamped");
    }

    [Fact]
    public void NanDeltasStayInTheirRowAndAreDroppedBeforeTargetsAreEncoded()
    {
        var coder = new BoxCoder((10, 10, 5, 5));
        var p = Tensor.FromArray(Proposals, 3, 4);
        var d = (float[])Deltas.Clone();
        var clean = coder.Decode(Tensor.FromArray(d, 3, 8), p).ToArray();
        d[8 + 2] = float.NaN;   // row 1, first set, dw
        var decoded = coder.Decode(Tensor.FromArray(d, 3, 8), p).ToArray();
        for (int i = 0; i < decoded.Length; i++)
        {
            bool hit = i is 8 or 10;   // x1 and x2 of row 1's first box
            Assert.True(hit ? float.IsNaN(decoded[i]) : decoded[i] == clean[i], $"element {i}: {decoded[i]} vs clean {clean[i]}");
        }

        // The proposal path keeps boxes with both sides >= min size (torchvision's remove_small_boxes); a NaN box
        // fails that test, so the regression targets built from the kept proposals are finite.
        var kept = new List<float>();
        var keptGt = new List<float>();
        for (int i = 0; i < 3; i++)
        {
            var box = decoded.AsSpan(i * 8, 4);
            if (box[2] - box[0] >= 1e-3f && box[3] - box[1] >= 1e-3f)
            {
                kept.AddRange(box.ToArray());
                keptGt.AddRange(GroundTruth.AsSpan(i * 4, 4).ToArray());
            }
        }
        Assert.Equal(8, kept.Count);
        var targets = coder.Encode(Tensor.FromArray([.. keptGt], 2, 4), Tensor.FromArray([.. kept], 2, 4)).ToArray();
        Assert.All(targets, v => Assert.True(float.IsFinite(v), $"target {v} is not finite"));
    }

    [Fact]
    public void ZeroWidthProposalsGiveNonFiniteTargetsOnlyInTheirRow()
    {
        // As torchvision: dividing by a zero width is not hidden; the other rows are untouched.
        var g = Tensor.FromArray([0, 0, 10, 10,   0, 0, 10, 10], 2, 4);
        var p = Tensor.FromArray([5, 0, 5, 10,    0, 0, 10, 10], 2, 4);
        var t = new BoxCoder((1, 1, 1, 1)).Encode(g, p).ToArray();
        Assert.True(float.IsPositiveInfinity(t[2]));
        Assert.Equal(new float[] { 0, 0, 0, 0 }, t[4..]);
    }

    [Fact]
    public void ShapesAreChecked()
    {
        var coder = new BoxCoder((1, 1, 1, 1));
        Assert.Contains("(N, 4k)", Assert.Throws<ArgumentException>(() => coder.Decode(Tensor.Zeros(2, 6), Tensor.Zeros(2, 4))).Message);
        Assert.Contains("as many", Assert.Throws<ArgumentException>(() => coder.Encode(Tensor.Zeros(2, 4), Tensor.Zeros(3, 4))).Message);
        Assert.Contains("weight Width", Assert.Throws<ArgumentException>(() => new BoxCoder((1, 1, 0, 1))).Message);
        Assert.Equal(new[] { 0, 8 }, coder.Decode(Tensor.Zeros(0, 8), Tensor.Zeros(0, 4)).Shape.ToArray());
    }
}
