namespace Backprop.Detection;

/// <summary>
/// torchvision's (0.14) Matcher: assigns every column (anchor or proposal) of a quality matrix (G, A) — usually IoU,
/// rows ground truth — the row it matches best, or a negative code when that best value is too low.
/// </summary>
/// <remarks>
/// For column j with best value v over rows (the first row on ties): <c>v ≥ high</c> → that row;
/// <c>low ≤ v &lt; high</c> → <see cref="BetweenThresholds"/>; <c>v &lt; low</c> → <see cref="BelowLowThreshold"/>.
/// With low-quality matches allowed, for every row the columns holding that row's maximum (all of them on ties)
/// get back their own best row (the column's argmax, which on ties across rows may be another row than the one whose
/// maximum it holds), whatever its value. As in torchvision, a row that is 0 everywhere therefore restores every
/// column whose best value is 0 too.
/// <para>Differences from torchvision, on inputs where it raises or misbehaves: G = 0 (no ground truth) gives
/// <see cref="BelowLowThreshold"/> for every column (torchvision raises; its RPN and RoI heads then label everything
/// background, which this gives directly); A = 0 gives an empty array; NaN entries are skipped as if absent
/// (torch.max would pick the NaN and neither threshold test would hold, keeping the column as a match).</para>
/// </remarks>
public sealed class Matcher
{
    /// <summary>The column's best value is below the low threshold (a negative, background).</summary>
    public const int BelowLowThreshold = -1;

    /// <summary>The column's best value is in [low, high) (ignored in training).</summary>
    public const int BetweenThresholds = -2;

    public Matcher(float highThreshold, float lowThreshold, bool allowLowQualityMatches)
    {
        if (float.IsNaN(highThreshold) || float.IsNaN(lowThreshold) || lowThreshold > highThreshold)
            throw new ArgumentException($"Matcher needs lowThreshold <= highThreshold, got low {lowThreshold} and high {highThreshold}.");
        HighThreshold = highThreshold;
        LowThreshold = lowThreshold;
        AllowLowQualityMatches = allowLowQualityMatches;
    }

    public float HighThreshold { get; }

    public float LowThreshold { get; }

    public bool AllowLowQualityMatches { get; }

    /// <summary>Per column of <paramref name="iou"/> (G, A): the matched row in [0, G), or a negative constant.</summary>
    public int[] Match(Tensor iou)
    {
        ArgumentNullException.ThrowIfNull(iou);
        if (iou.Rank != 2)
            throw new ArgumentException($"Matcher.Match needs a (G, A) matrix (rows ground truth, columns anchors), got shape {iou.Shape}.", nameof(iou));
        int g = iou.Shape[0], a = iou.Shape[1];
        var matches = new int[a];
        if (g == 0)
        {
            Array.Fill(matches, BelowLowThreshold);
            return matches;
        }
        var q = iou.ToArray();   // q: (G, A)

        var best = new int[a];   // each column's argmax over rows (first on ties), NaN skipped
        for (int j = 0; j < a; j++)
        {
            float v = float.NegativeInfinity;
            int arg = 0;
            for (int r = 0; r < g; r++)
                if (q[r * a + j] > v) { v = q[r * a + j]; arg = r; }
            best[j] = arg;
            matches[j] = v >= HighThreshold ? arg : v >= LowThreshold ? BetweenThresholds : BelowLowThreshold;
        }

        if (AllowLowQualityMatches)
        {
            for (int r = 0; r < g; r++)
            {
                var row = q.AsSpan(r * a, a);
                float rowMax = float.NegativeInfinity;
                foreach (float v in row) if (v > rowMax) rowMax = v;
                if (float.IsNegativeInfinity(rowMax)) continue;   // an all-NaN row has no best column
                for (int j = 0; j < a; j++)
                    if (row[j] == rowMax) matches[j] = best[j];
            }
        }
        return matches;
    }

    public override string ToString() => $"Matcher(high={HighThreshold}, low={LowThreshold}{(AllowLowQualityMatches ? ", allowLowQualityMatches" : "")})";
}
