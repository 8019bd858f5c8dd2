using Backprop;
using Backprop.Viz;

namespace FiltersAndSeeds;

/// <summary>Both runs' conv1 filters as one PNG: the matched pairs side by side, captioned, most alike first.</summary>
public static class FilterPicture
{
    /// <summary>
    /// Writes each of <paramref name="a"/>'s trained filters beside the filter of <paramref name="b"/> the matching gives it
    /// (sign-flipped where that makes them alike), headed "seed A" and "seed B", captioned with the filter numbers and
    /// their |cosine similarity|, pairs sorted from most to least alike. Each tile is scaled to its own range: black =
    /// most negative weight, white = most positive.
    /// </summary>
    public static LabelledPicture Render(LeNetRun a, LeNetRun b, FilterPair[] pairs)
    {
        var aligned = FilterMatching.Align(a.Filters, b.Filters, pairs);
        int[] order = Enumerable.Range(0, pairs.Length).OrderByDescending(i => pairs[i].Similarity).ToArray();
        var captions = order.Select(i => $"#{pairs[i].A} ↔ #{pairs[i].B}  |cos| {pairs[i].Similarity:F2}").ToArray();
        string title = $"conv1 filters of two LeNet runs, matched one-to-one (mean |cos| {pairs.Average(p => p.Similarity):F2})";
        return PairedTiles.Render(Rows(a.Filters, order), Rows(aligned, order), captions, $"seed {a.Seed}", $"seed {b.Seed}", title);
    }

    /// <summary>Writes <see cref="Render"/>'s picture to <paramref name="path"/>.</summary>
    public static void Save(LeNetRun a, LeNetRun b, FilterPair[] pairs, string path)
    {
        using var picture = Render(a, b, pairs);
        picture.Save(path);
    }

    // Filters (K, ...) taken in the given order.
    private static Tensor Rows(Tensor filters, int[] order)
    {
        int size = filters.Length / filters.Shape[0];
        var source = filters.ToArray();
        var result = new float[source.Length];
        for (int i = 0; i < order.Length; i++) Array.Copy(source, order[i] * size, result, i * size, size);
        return Tensor.FromArray(result, filters.Shape.ToArray());
    }
}
