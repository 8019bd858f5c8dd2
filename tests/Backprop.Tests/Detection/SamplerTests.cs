using Backprop.Detection;

namespace Backprop.Tests.Detection;

public class SamplerTests
{
    /// <summary>Labels with the given counts of positives (1), negatives (0) and ignored (-1), shuffled by a fixed seed.</summary>
    private static int[] Labels(int positives, int negatives, int ignored, ulong seed = 7)
    {
        var labels = Enumerable.Repeat(1, positives).Concat(Enumerable.Repeat(0, negatives)).Concat(Enumerable.Repeat(-1, ignored)).ToArray();
        var perm = new Generator(seed).Permutation(labels.Length);
        return perm.Select(i => labels[i]).ToArray();
    }

    private static void AssertFrom(int[] labels, int[] picked, Func<int, bool> belongs, string what)
    {
        Assert.Equal(picked.Length, picked.Distinct().Count());
        Assert.True(picked.SequenceEqual(picked.Order()), $"{what} indices are not ascending");
        foreach (int i in picked) Assert.True(belongs(labels[i]), $"{what} index {i} has label {labels[i]}");
    }

    [Fact]
    public void AtMostHalfPositivesAndTheRestNegatives()
    {
        var labels = Labels(300, 600, 100);
        var (pos, neg) = new BalancedPositiveNegativeSampler(256, 0.5f).Sample(labels, new Generator(1));
        Assert.Equal(128, pos.Length);
        Assert.Equal(128, neg.Length);
        AssertFrom(labels, pos, l => l == 1, "positive");
        AssertFrom(labels, neg, l => l == 0, "negative");
    }

    [Fact]
    public void FewPositivesAreFilledWithNegatives()
    {
        var labels = Labels(20, 600, 50);
        var (pos, neg) = new BalancedPositiveNegativeSampler(256, 0.5f).Sample(labels, new Generator(2));
        Assert.Equal(Enumerable.Range(0, labels.Length).Where(i => labels[i] == 1), pos);   // all 20 positives
        Assert.Equal(236, neg.Length);
        AssertFrom(labels, neg, l => l == 0, "negative");
    }

    [Fact]
    public void FewOfBothTakesAllAndClassIdsArePositive()
    {
        int[] labels = [0, 3, -1, 1, 0, 2, -1, 0];
        var (pos, neg) = new BalancedPositiveNegativeSampler(256, 0.25f).Sample(labels, new Generator(3));
        Assert.Equal(new[] { 1, 3, 5 }, pos);
        Assert.Equal(new[] { 0, 4, 7 }, neg);
    }

    [Fact]
    public void PositiveQuotaTruncatesTheProduct()
    {
        // (int)(100 * 0.3) = 30 positives, 70 negatives.
        var (pos, neg) = new BalancedPositiveNegativeSampler(100, 0.3f).Sample(Labels(200, 200, 0), new Generator(4));
        Assert.Equal((30, 70), (pos.Length, neg.Length));
    }

    [Fact]
    public void SameSeedRepeatsAndDifferentSeedsDiffer()
    {
        var labels = Labels(300, 600, 100);
        var sampler = new BalancedPositiveNegativeSampler(256, 0.5f);
        var a = sampler.Sample(labels, new Generator(42));
        var b = sampler.Sample(labels, new Generator(42));
        var c = sampler.Sample(labels, new Generator(43));
        Assert.Equal(a.Positive, b.Positive);
        Assert.Equal(a.Negative, b.Negative);
        Assert.NotEqual(a.Positive, c.Positive);
        Assert.NotEqual(a.Negative, c.Negative);
    }

    [Fact]
    public void EveryPositiveIsEquallyLikely()
    {
        // 2 of 10 positives per draw, 5000 draws: each index expected 1000 times (sd about 28).
        var labels = Labels(10, 0, 0);
        var sampler = new BalancedPositiveNegativeSampler(4, 0.5f);
        var rng = new Generator(5);
        var counts = new int[10];
        for (int t = 0; t < 5000; t++)
            foreach (int i in sampler.Sample(labels, rng).Positive) counts[i]++;
        Assert.All(counts, c => Assert.InRange(c, 880, 1120));
    }

    [Fact]
    public void BadArgumentsSayWhat()
    {
        Assert.Contains("batch size", Assert.Throws<ArgumentException>(() => new BalancedPositiveNegativeSampler(0, 0.5f)).Message);
        Assert.Contains("fraction", Assert.Throws<ArgumentException>(() => new BalancedPositiveNegativeSampler(256, 1.5f)).Message);
    }
}
