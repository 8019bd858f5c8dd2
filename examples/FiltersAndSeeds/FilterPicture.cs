using Backprop.Viz;

namespace FiltersAndSeeds;

/// <summary>Both runs' conv1 filters as one PNG: seed 1's grid on the left, seed 2's on the right, lined up by the matching.</summary>
public static class FilterPicture
{
    /// <summary>
    /// Writes <paramref name="a"/>'s trained filters in their own order and <paramref name="b"/>'s reordered (and sign-flipped
    /// where that makes them alike) so that each tile on the right is the match of the tile in the same place on the left.
    /// Each tile is scaled to its own range: black = most negative weight, white = most positive.
    /// </summary>
    public static void Save(LeNetRun a, LeNetRun b, FilterPair[] pairs, string path)
    {
        var options = new FilterGridOptions { Scale = 12, Columns = 5 };
        using var left = FilterGrid.Render(a.Filters, options);
        using var right = FilterGrid.Render(FilterMatching.Align(a.Filters, b.Filters, pairs), options);
        using var both = FilterGrid.SideBySide([left, right], gap: 24);
        PngFile.Save(both, path);
    }
}
