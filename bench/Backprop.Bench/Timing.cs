using System.Diagnostics;

namespace Backprop.Bench;

/// <summary>The small timing helpers every side-by-side case shares.</summary>
internal static class Timing
{
    /// <summary>Milliseconds one call of <paramref name="body"/> takes.</summary>
    public static double Milliseconds(Action body)
    {
        var sw = Stopwatch.StartNew();
        body();
        return sw.Elapsed.TotalMilliseconds;
    }

    /// <summary>The median (the upper one for an even count), leaving <paramref name="values"/> as it was.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
