using System.Globalization;
using System.Text;

namespace FiltersAndSeeds;

/// <summary>The tables the example prints: orientation per filter for both seeds, and the one-to-one matching.</summary>
public static class FilterReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>One line per conv1 filter: orientation (degrees, symbol) and coherence for each run, before and after training.</summary>
    public static string Orientations(LeNetRun a, LeNetRun b)
    {
        var ia = EdgeOrientation.OfEach(a.InitialFilters);
        var ta = EdgeOrientation.OfEach(a.Filters);
        var ib = EdgeOrientation.OfEach(b.InitialFilters);
        var tb = EdgeOrientation.OfEach(b.Filters);
        var sb = new StringBuilder();
        sb.AppendLine(Invariant, $"filter   seed {a.Seed}: random start -> trained     seed {b.Seed}: random start -> trained");
        for (int f = 0; f < ta.Length; f++)
            sb.AppendLine(Invariant, $"  {f,2}      {Cell(ia[f])} -> {Cell(ta[f])}      {Cell(ib[f])} -> {Cell(tb[f])}");
        sb.AppendLine(Invariant, $"mean coherence   {Mean(ia),13:F2} -> {Mean(ta):F2}   {Mean(ib),20:F2} -> {Mean(tb):F2}");
        return sb.ToString();
    }

    /// <summary>The Hungarian matching of <paramref name="a"/>'s trained filters to <paramref name="b"/>'s, best pairs first.</summary>
    public static string Matching(LeNetRun a, LeNetRun b, FilterPair[] pairs)
    {
        var oa = EdgeOrientation.OfEach(a.Filters);
        var ob = EdgeOrientation.OfEach(b.Filters);
        var sb = new StringBuilder();
        sb.AppendLine(Invariant, $"seed {a.Seed} filter  <->  seed {b.Seed} filter   |cos|   orientations");
        foreach (var p in pairs.OrderByDescending(p => p.Similarity))
            sb.AppendLine(Invariant, $"        {p.A,2}    <->           {p.B,2}      {p.Similarity:F2}   {Cell(oa[p.A])} vs {Cell(ob[p.B])}");
        return sb.ToString();
    }

    private static string Cell(Orientation o) => string.Create(Invariant, $"{o.Degrees,3:F0}° {o.Symbol} {o.Coherence:F2}");

    private static double Mean(Orientation[] o) => o.Average(x => x.Coherence);
}
