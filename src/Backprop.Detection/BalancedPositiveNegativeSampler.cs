namespace Backprop.Detection;

/// <summary>
/// torchvision's BalancedPositiveNegativeSampler for one image: picks a training batch of anchors or proposals with at
/// most a given fraction of positives, filling the rest with negatives.
/// </summary>
/// <remarks>
/// <c>numPos = min(#positive, (int)(batch · fraction))</c>, <c>numNeg = min(#negative, batch − numPos)</c>; each set is
/// drawn uniformly without replacement (a partial Fisher–Yates shuffle driven by the generator), so a seeded generator
/// repeats the draw. Labels ≥ 1 are positive (1, or a class id as in torchvision), 0 negative, below 0 ignored.
/// The returned indices are in ascending order (torchvision returns masks; the order carries no meaning).
/// </remarks>
public sealed class BalancedPositiveNegativeSampler
{
    public BalancedPositiveNegativeSampler(int batchSizePerImage, float positiveFraction)
    {
        if (batchSizePerImage <= 0)
            throw new ArgumentException($"BalancedPositiveNegativeSampler needs a positive batch size, got {batchSizePerImage}.", nameof(batchSizePerImage));
        if (!(positiveFraction >= 0 && positiveFraction <= 1))
            throw new ArgumentException($"BalancedPositiveNegativeSampler needs a positive fraction in [0, 1], got {positiveFraction}.", nameof(positiveFraction));
        BatchSizePerImage = batchSizePerImage;
        PositiveFraction = positiveFraction;
    }

    public int BatchSizePerImage { get; }

    public float PositiveFraction { get; }

    /// <summary>Indices into <paramref name="labels"/> of the sampled positives and negatives, each ascending.</summary>
    public (int[] Positive, int[] Negative) Sample(int[] labels, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(generator);
        var positive = new List<int>();
        var negative = new List<int>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= 1) positive.Add(i);
            else if (labels[i] == 0) negative.Add(i);
        }
        int numPos = Math.Min(positive.Count, (int)(BatchSizePerImage * PositiveFraction));
        int numNeg = Math.Min(negative.Count, BatchSizePerImage - numPos);
        return (Choose(positive, numPos, generator), Choose(negative, numNeg, generator));
    }

    /// <summary>k of the items uniformly without replacement: the first k steps of a Fisher–Yates shuffle, sorted.</summary>
    private static int[] Choose(List<int> items, int k, Generator generator)
    {
        var pool = items.ToArray();
        for (int i = 0; i < k; i++)
        {
            int j = i + generator.NextInt(pool.Length - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        var chosen = pool.AsSpan(0, k).ToArray();
        Array.Sort(chosen);
        return chosen;
    }

    public override string ToString() => $"BalancedPositiveNegativeSampler(batch={BatchSizePerImage}, positiveFraction={PositiveFraction})";
}
