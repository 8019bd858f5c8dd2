using Backprop.Detection;

namespace Backprop.Tests.Detection;

/// <summary>
/// Anchors against py-faster-rcnn's published values and torchvision 0.14's AnchorGenerator output
/// (numbers from Fixtures/make_detection_fixtures.py, run once with /usr/bin/python3).
/// </summary>
public class AnchorTests
{
    private static void AssertRows(float[] expected, Tensor actual, string what)
    {
        Assert.Equal(2, actual.Rank);
        Assert.Equal(4, actual.Shape[1]);
        var a = actual.ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(expected[i] == a[i], $"{what}: row {i / 4} coord {i % 4}: expected {expected[i]}, got {a[i]}");
    }

    [Fact]
    public void PyFasterRcnnDefaultsAreThePublishedNine()
    {
        // generate_anchors() in py-faster-rcnn: ratio-major, scales 8, 16, 32.
        float[] expected =
        [
            -84, -40, 99, 55,     -176, -88, 191, 103,    -360, -184, 375, 199,
            -56, -56, 71, 71,     -120, -120, 135, 135,   -248, -248, 263, 263,
            -36, -80, 51, 95,     -80, -168, 95, 183,     -168, -344, 183, 359,
        ];
        AssertRows(expected, PyFasterRcnnAnchors.Generate(), "py-faster-rcnn defaults");
        AssertRows(expected, PyFasterRcnnAnchors.Generate(16, [0.5f, 1f, 2f], [8f, 16f, 32f]), "py-faster-rcnn explicit defaults");
    }

    [Fact]
    public void PyFasterRcnnOtherBaseRatiosAndScales()
    {
        // Base 8, ratio 0.25: w = round(sqrt(64 / 0.25)) = 16, h = round(16 * 0.25) = 4, centre 3.5;
        // scale 2: (32, 8) -> (3.5 - 15.5, 3.5 - 3.5, 3.5 + 15.5, 3.5 + 3.5) = (-12, 0, 19, 7).
        float[] expected =
        [
            -12, 0, 19, 7,   -20, -2, 27, 9,
            -4, -4, 11, 11,  -8, -8, 15, 15,
        ];
        AssertRows(expected, PyFasterRcnnAnchors.Generate(8, [0.25f, 1f], [2f, 3f]), "py-faster-rcnn base 8");
    }

    [Fact]
    public void PyFasterRcnnShiftIsShiftMajor()
    {
        var baseAnchors = Tensor.FromArray([-1, -2, 3, 4, 10, 20, 30, 40], 2, 4);
        // H = 2, W = 3, stride 16: row k*A + a, k = y*W + x, shift (16x, 16y).
        var shifted = PyFasterRcnnAnchors.Shift(baseAnchors, 2, 3, 16);
        var expected = new List<float>();
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
            {
                expected.AddRange([-1 + 16 * x, -2 + 16 * y, 3 + 16 * x, 4 + 16 * y]);
                expected.AddRange([10 + 16 * x, 20 + 16 * y, 30 + 16 * x, 40 + 16 * y]);
            }
        AssertRows([.. expected], shifted, "py-faster-rcnn shift");
        Assert.Equal(-36 + 16 * 1, PyFasterRcnnAnchors.Shift(PyFasterRcnnAnchors.Generate(), 5, 7, 16)[(0 * 7 + 1) * 9 + 6, 0]);
    }

    [Fact]
    public void TorchvisionCellAnchorsAreRatioMajorAndRounded()
    {
        var gen = new AnchorGenerator([32f, 64f, 128f], [0.5f, 1f, 2f]);
        Assert.Equal(9, gen.AnchorsPerLocation);
        float[] expected =
        [
            -23, -11, 23, 11,   -45, -23, 45, 23,   -91, -45, 91, 45,
            -16, -16, 16, 16,   -32, -32, 32, 32,   -64, -64, 64, 64,
            -11, -23, 11, 23,   -23, -45, 23, 45,   -45, -91, 45, 91,
        ];
        AssertRows(expected, gen.CellAnchors(), "torchvision cell anchors");
    }

    [Fact]
    public void TorchvisionRoundsHalfToEven()
    {
        // Size 5, ratio 1: +-2.5 rounds to +-2 (half to even, torch.round), not +-3; size 7: +-3.5 -> +-4.
        var gen = new AnchorGenerator([5f, 7f], [1f]);
        AssertRows([-2, -2, 2, 2, -4, -4, 4, 4], gen.CellAnchors(), "half-to-even");
    }

    [Fact]
    public void TorchvisionGridAnchorsMatchTorchvisionOn3x4Stride16()
    {
        // AnchorGenerator(((32, 64, 128),), ((0.5, 1.0, 2.0),)) on a 48x64 image with a 3x4 feature map.
        float[] expected =
        [
        -23, -11, 23, 11,   -45, -23, 45, 23,   -91, -45, 91, 45,
        -16, -16, 16, 16,   -32, -32, 32, 32,   -64, -64, 64, 64,
        -11, -23, 11, 23,   -23, -45, 23, 45,   -45, -91, 45, 91,
        -7, -11, 39, 11,   -29, -23, 61, 23,   -75, -45, 107, 45,
        0, -16, 32, 16,   -16, -32, 48, 32,   -48, -64, 80, 64,
        5, -23, 27, 23,   -7, -45, 39, 45,   -29, -91, 61, 91,
        9, -11, 55, 11,   -13, -23, 77, 23,   -59, -45, 123, 45,
        16, -16, 48, 16,   0, -32, 64, 32,   -32, -64, 96, 64,
        21, -23, 43, 23,   9, -45, 55, 45,   -13, -91, 77, 91,
        25, -11, 71, 11,   3, -23, 93, 23,   -43, -45, 139, 45,
        32, -16, 64, 16,   16, -32, 80, 32,   -16, -64, 112, 64,
        37, -23, 59, 23,   25, -45, 71, 45,   3, -91, 93, 91,
        -23, 5, 23, 27,   -45, -7, 45, 39,   -91, -29, 91, 61,
        -16, 0, 16, 32,   -32, -16, 32, 48,   -64, -48, 64, 80,
        -11, -7, 11, 39,   -23, -29, 23, 61,   -45, -75, 45, 107,
        -7, 5, 39, 27,   -29, -7, 61, 39,   -75, -29, 107, 61,
        0, 0, 32, 32,   -16, -16, 48, 48,   -48, -48, 80, 80,
        5, -7, 27, 39,   -7, -29, 39, 61,   -29, -75, 61, 107,
        9, 5, 55, 27,   -13, -7, 77, 39,   -59, -29, 123, 61,
        16, 0, 48, 32,   0, -16, 64, 48,   -32, -48, 96, 80,
        21, -7, 43, 39,   9, -29, 55, 61,   -13, -75, 77, 107,
        25, 5, 71, 27,   3, -7, 93, 39,   -43, -29, 139, 61,
        32, 0, 64, 32,   16, -16, 80, 48,   -16, -48, 112, 80,
        37, -7, 59, 39,   25, -29, 71, 61,   3, -75, 93, 107,
        -23, 21, 23, 43,   -45, 9, 45, 55,   -91, -13, 91, 77,
        -16, 16, 16, 48,   -32, 0, 32, 64,   -64, -32, 64, 96,
        -11, 9, 11, 55,   -23, -13, 23, 77,   -45, -59, 45, 123,
        -7, 21, 39, 43,   -29, 9, 61, 55,   -75, -13, 107, 77,
        0, 16, 32, 48,   -16, 0, 48, 64,   -48, -32, 80, 96,
        5, 9, 27, 55,   -7, -13, 39, 77,   -29, -59, 61, 123,
        9, 21, 55, 43,   -13, 9, 77, 55,   -59, -13, 123, 77,
        16, 16, 48, 48,   0, 0, 64, 64,   -32, -32, 96, 96,
        21, 9, 43, 55,   9, -13, 55, 77,   -13, -59, 77, 123,
        25, 21, 71, 43,   3, 9, 93, 55,   -43, -13, 139, 77,
        32, 16, 64, 48,   16, 0, 80, 64,   -16, -32, 112, 96,
        37, 9, 59, 55,   25, -13, 71, 77,   3, -59, 93, 123,        ];
        var gen = new AnchorGenerator([32f, 64f, 128f], [0.5f, 1f, 2f]);
        var anchors = gen.GridAnchors(3, 4, 16, 16);
        Assert.Equal(new[] { 108, 4 }, anchors.Shape.ToArray());
        AssertRows(expected, anchors, "torchvision 3x4 stride 16");
    }

    [Fact]
    public void TorchvisionGridAnchorsMatchTorchvisionForOddSizesAndRatios()
    {
        // AnchorGenerator(((20, 45),), ((0.3, 1.7),)) on a 16x24 image with a 2x3 feature map (stride 8).
        float[] expected =
        [
        -18, -5, 18, 5,   -41, -12, 41, 12,   -8, -13, 8, 13,   -17, -29, 17, 29,
        -10, -5, 26, 5,   -33, -12, 49, 12,   0, -13, 16, 13,   -9, -29, 25, 29,
        -2, -5, 34, 5,   -25, -12, 57, 12,   8, -13, 24, 13,   -1, -29, 33, 29,
        -18, 3, 18, 13,   -41, -4, 41, 20,   -8, -5, 8, 21,   -17, -21, 17, 37,
        -10, 3, 26, 13,   -33, -4, 49, 20,   0, -5, 16, 21,   -9, -21, 25, 37,
        -2, 3, 34, 13,   -25, -4, 57, 20,   8, -5, 24, 21,   -1, -21, 33, 37,        ];
        AssertRows(expected, new AnchorGenerator([20f, 45f], [0.3f, 1.7f]).GridAnchors(2, 3, 8, 8), "torchvision 2x3 stride 8");
    }

    [Fact]
    public void GridAnchorsShiftXAndYByTheirOwnStrides()
    {
        var gen = new AnchorGenerator([2f], [1f]);   // one anchor (-1, -1, 1, 1)
        // H = 2, W = 2, strideY = 10, strideX = 3: order (y, x).
        AssertRows([-1, -1, 1, 1,   2, -1, 4, 1,   -1, 9, 1, 11,   2, 9, 4, 11], gen.GridAnchors(2, 2, 10, 3), "strides");
        Assert.Equal(new[] { 0, 4 }, gen.GridAnchors(0, 5, 16, 16).Shape.ToArray());
    }

    [Fact]
    public void DefaultHasFifteenAnchors()
    {
        Assert.Equal(15, AnchorGenerator.Default.AnchorsPerLocation);
        Assert.Equal(new float[] { -362, -181, 362, 181 }, AnchorGenerator.Default.CellAnchors().ToArray()[16..20]);
    }

    [Fact]
    public void BadArgumentsSayWhat()
    {
        Assert.Contains("size 1", Assert.Throws<ArgumentException>(() => new AnchorGenerator([32f, 0f], [1f])).Message);
        Assert.Contains("aspect ratio 0", Assert.Throws<ArgumentException>(() => new AnchorGenerator([32f], [-1f])).Message);
        Assert.Contains("strides", Assert.Throws<ArgumentException>(() => AnchorGenerator.Default.GridAnchors(2, 2, 0, 16)).Message);
        Assert.Contains("(A, 4)", Assert.Throws<ArgumentException>(() => PyFasterRcnnAnchors.Shift(Tensor.Zeros(3, 5), 2, 2, 16)).Message);
        Assert.Contains("base size", Assert.Throws<ArgumentException>(() => PyFasterRcnnAnchors.Generate(0)).Message);
    }
}
