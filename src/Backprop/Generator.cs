namespace Backprop;

/// <summary>
/// A seeded random number generator (xoshiro256** seeded through SplitMix64). Every random draw in
/// Backprop takes one, so a seed makes a run repeatable bit for bit. Not thread-safe: draw from one
/// thread, or give each worker its own generator.
/// </summary>
public sealed class Generator
{
    private ulong s0, s1, s2, s3;
    private float? spareNormal;

    /// <summary>The generator used when a caller passes none; like PyTorch's default generator it starts from a fixed seed.</summary>
    public static Generator Default { get; } = new(67280421310721);

    public Generator(ulong seed) => Seed(seed);

    /// <summary>The seed this generator was last (re)seeded with.</summary>
    public ulong InitialSeed { get; private set; }

    /// <summary>Restarts the sequence from <paramref name="seed"/>.</summary>
    public Generator Seed(ulong seed)
    {
        InitialSeed = seed;
        ulong x = seed;
        s0 = SplitMix(ref x); s1 = SplitMix(ref x); s2 = SplitMix(ref x); s3 = SplitMix(ref x);
        spareNormal = null;
        return this;
    }

    /// <summary>Reseeds <see cref="Default"/>, as <c>torch.manual_seed</c> does.</summary>
    public static void ManualSeed(ulong seed) => Default.Seed(seed);

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), with 24 random bits (every float in the grid is reachable).</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n), without modulo bias.</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"NextInt needs a positive bound, got {n}.");
        ulong bound = (ulong)n;
        ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (int)(r % bound);
    }

    /// <summary>Standard normal (Box–Muller; the second value of each pair is kept for the next call).</summary>
    public float NextNormal()
    {
        if (spareNormal is float s) { spareNormal = null; return s; }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        spareNormal = (float)(radius * Math.Sin(2 * Math.PI * u2));
        return (float)(radius * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>Fills with uniform values in [low, high).</summary>
    public void FillUniform(Span<float> destination, float low, float high)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = low + (high - low) * NextFloat();
    }

    /// <summary>Fills with normal values of the given mean and standard deviation.</summary>
    public void FillNormal(Span<float> destination, float mean, float std)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = mean + std * NextNormal();
    }

    /// <summary>A permutation of 0..n-1 (Fisher–Yates).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) { int j = NextInt(i + 1); (p[i], p[j]) = (p[j], p[i]); }
        return p;
    }
}
