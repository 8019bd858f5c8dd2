namespace Backprop.Caffe.TextFormat;

/// <summary>Finds the known name a misspelt one was probably meant to be, for "did you mean" hints.</summary>
internal static class NameSuggestion
{
    /// <summary>
    /// The candidate nearest to <paramref name="name"/> by edit distance, ignoring case (ties go to
    /// the first), when it is at most 2 edits away and no more than half the name's length; else null.
    /// </summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = Math.Min(2, name.Length / 2) + 1;
        foreach (string candidate in candidates)
        {
            // The distance is at least the length difference: skip the quadratic work for a huge name.
            if (Math.Abs(name.Length - candidate.Length) >= bestDistance) continue;
            int distance = EditDistance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    // Levenshtein distance: insertions, deletions and substitutions each cost 1.
    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
