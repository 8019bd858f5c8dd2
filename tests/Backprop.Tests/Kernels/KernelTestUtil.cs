using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>Tests that change global kernel settings (SimdWidth.Max, KernelThreads.Count) run one at a time.</summary>
[CollectionDefinition("KernelSettings", DisableParallelization = true)]
public sealed class KernelSettingsCollection { }

internal static class KernelTestUtil
{
    /// <summary>The SIMD widths to test: those the runtime accelerates here (a wider one would only test the runtime's emulation).</summary>
    public static readonly int[] Widths = [.. new[] { 512, 256, 128, 0 }.Where(w => w <= SimdWidth.Hardware)];

    public static float[] Random(int length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary>|expected - actual| <= atol + rtol*|expected| everywhere; the message names the first bad index.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            double diff = Math.Abs(e - a);
            if (!(diff <= atol + rtol * Math.Abs(e)))
                Assert.Fail($"{what}: index {i} expected {e:R} got {a:R} (diff {diff:E2}, tolerance {atol + rtol * Math.Abs(e):E2})");
            maxDiff = Math.Max(maxDiff, diff);
        }
    }

    public static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: index {i} differs: {expected[i]:R} vs {actual[i]:R}");
        }
    }

    /// <summary>Runs body with the given settings and restores the previous ones.</summary>
    /// <summary>Normal values (Box–Muller from a seeded Random): mean <paramref name="center"/>, deviation <paramref name="spread"/>.</summary>
    public static float[] Normal(int length, int seed, float center, float spread)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            double u = 1 - rng.NextDouble(), v = rng.NextDouble();
            values[i] = (float)(center + spread * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }
        return values;
    }

    public static void With(int? width, int? threads, Action body)
    {
        int oldWidth = SimdWidth.Max, oldThreads = KernelThreads.Count;
        try
        {
            if (width is int w) SimdWidth.Max = w;
            if (threads is int t) KernelThreads.Count = t;
            body();
        }
        finally
        {
            SimdWidth.Max = oldWidth;
            KernelThreads.Count = oldThreads;
        }
    }
}
