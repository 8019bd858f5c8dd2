using Backprop.Detection;

namespace Backprop.Tests.Detection;

/// <summary>Matcher on hand-made IoU matrices; the torchvision results were checked with Fixtures/make_detection_fixtures.py.</summary>
public class MatcherTests
{
    private const int Below = Matcher.BelowLowThreshold, Between = Matcher.BetweenThresholds;

    private static int[] Match(float high, float low, bool allow, float[,] iou)
    {
        int g = iou.GetLength(0), a = iou.GetLength(1);
        var flat = new float[g * a];
        Buffer.BlockCopy(iou, 0, flat, 0, flat.Length * sizeof(float));
        return new Matcher(high, low, allow).Match(Tensor.FromArray(flat, g, a));
    }

    private static readonly float[,] ThreeByFive =
    {
        { 0.1f, 0.6f, 0.75f, 0.3f, 0.0f },
        { 0.2f, 0.65f, 0.2f, 0.35f, 0.0f },
        { 0.3f, 0.1f, 0.7f, 0.35f, 0.0f },
    };

    [Fact]
    public void ThresholdsSplitColumnsIntoMatchesIgnoredAndBackground()
    {
        // Column bests: 0.3 (row 2), 0.65 (row 1), 0.75 (row 0), 0.35 (rows 1, 2), 0 -> torchvision [-2, -2, 0, -2, -1].
        Assert.Equal(new[] { Between, Between, 0, Between, Below }, Match(0.7f, 0.3f, false, ThreeByFive));
    }

    [Fact]
    public void LowQualityMatchesGiveEachGroundTruthItsBestColumn()
    {
        // Row 1's best is column 1 (0.65): restored to 1. Row 2's best, column 2 (0.7), already belongs to row 0 (0.75)
        // and keeps it: the column gets its own argmax back. torchvision: [-2, 1, 0, -2, -1].
        Assert.Equal(new[] { Between, 1, 0, Between, Below }, Match(0.7f, 0.3f, true, ThreeByFive));
    }

    [Fact]
    public void TiesOfTheBestValueAreAllMatchedToTheColumnsOwnArgmax()
    {
        float[,] iou =
        {
            { 0.5f, 0.5f, 0.2f, 0.5f },
            { 0.1f, 0.2f, 0.2f, 0.05f },
        };
        Assert.Equal(new[] { Between, Between, Below, Between }, Match(0.7f, 0.3f, false, iou));
        // Row 0's maximum 0.5 sits in columns 0, 1, 3: all matched. Row 1's maximum 0.2 sits in columns 1 and 2; column 2
        // ties rows 0 and 1 at 0.2 and its argmax is the first row, 0. torchvision: [0, 0, 0, 0].
        Assert.Equal(new[] { 0, 0, 0, 0 }, Match(0.7f, 0.3f, true, iou));
    }

    [Fact]
    public void AGroundTruthWithNoOverlapRestoresEveryZeroColumn()
    {
        // torchvision's quirk, kept: row 2 is 0 everywhere, so every column "holds its best" and gets its argmax.
        float[,] iou = { { 0.4f, 0.4f, 0.1f }, { 0.4f, 0.2f, 0.1f }, { 0f, 0f, 0f } };
        Assert.Equal(new[] { 0, 0, 0 }, Match(0.7f, 0.3f, true, iou));
        Assert.Equal(new[] { Between, Between, Below }, Match(0.7f, 0.3f, false, iou));
    }

    [Fact]
    public void BoundariesAreHighInclusiveAndLowInclusive()
    {
        // >= high positive, [low, high) between, < low background.
        Assert.Equal(new[] { 0, Between, Between, Below }, Match(0.7f, 0.3f, false, new[,] { { 0.7f, 0.6999f, 0.3f, 0.2999f } }));
        // Equal thresholds leave no band between: torchvision gives [0, -1, -1, 0].
        Assert.Equal(new[] { 0, Below, Below, 0 }, Match(0.5f, 0.5f, false, new[,] { { 0.5f, 0.4999f, 0.3f, 0.7f } }));
    }

    [Fact]
    public void NoGroundTruthMakesEverythingBackgroundAndNoColumnsGiveNothing()
    {
        var matcher = new Matcher(0.7f, 0.3f, true);
        Assert.Equal(new[] { Below, Below, Below }, matcher.Match(Tensor.Zeros(0, 3)));
        Assert.Empty(matcher.Match(Tensor.Zeros(2, 0)));
    }

    [Fact]
    public void NanEntriesAreSkipped()
    {
        float nan = float.NaN;
        Assert.Equal(new[] { 1, 0, Below }, Match(0.7f, 0.3f, false, new[,] { { nan, 0.8f, nan }, { 0.9f, nan, nan } }));
        Assert.Equal(new[] { 1, 0, Below }, Match(0.7f, 0.3f, true, new[,] { { nan, 0.8f, nan }, { 0.9f, nan, nan } }));
    }

    [Fact]
    public void BadArgumentsSayWhat()
    {
        Assert.Contains("lowThreshold <= highThreshold", Assert.Throws<ArgumentException>(() => new Matcher(0.3f, 0.7f, false)).Message);
        Assert.Contains("(G, A)", Assert.Throws<ArgumentException>(() => new Matcher(0.7f, 0.3f, false).Match(Tensor.Zeros(3))).Message);
    }
}
