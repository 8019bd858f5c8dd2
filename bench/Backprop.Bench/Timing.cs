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

    /// <summary>
    /// Milliseconds of sleep before each side's block of calls in <see cref="Interleaved"/>: a side leaves threads spinning
    /// for a while after its last call (ONNX Runtime's pool; Backprop's kernel workers for 200 µs), and with no pause those
    /// spinners took one of the two cores from the next side's first calls (ResNet-20 at batch 1 came out 0.43 and 0.50 ms
    /// for Backprop, 0.35 and 0.31 ms for ORT; with the pause 0.28-0.41 and 0.26-0.29 ms, same build, machine loaded).
    /// Users run one runtime, not two at once.
    /// </summary>
    public const int SideGapMs = 20;

    /// <summary>
    /// Each body timed in blocks of <paramref name="block"/> calls (the first of each block not recorded: it only brings the
    /// side's data back into cache), the sides taking turns and the first side rotating each round, every block after a
    /// <see cref="SideGapMs"/> pause; <paramref name="warmUpRounds"/> rounds first, not recorded. Milliseconds per body.
    /// </summary>
    public static List<double>[] Interleaved(IReadOnlyList<Action> bodies, int rounds, int block, int warmUpRounds = 0)
    {
        var times = bodies.Select(_ => new List<double>()).ToArray();
        for (int round = -warmUpRounds; round < rounds; round++)
            for (int k = 0; k < bodies.Count; k++)
            {
                int s = (k + Math.Max(round, 0)) % bodies.Count;
                Thread.Sleep(SideGapMs);
                for (int i = 0; i < block; i++)
                {
                    double ms = Milliseconds(bodies[s]);
                    if (round >= 0 && i > 0) times[s].Add(ms);
                }
            }
        return times;
    }

    /// <summary>The median (the upper one for an even count), leaving <paramref name="values"/> as it was.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
