namespace Backprop.Bench;

internal static class Data
{
    /// <summary>Uniform values in [-1, 1) from a fixed seed.</summary>
    public static float[] Random(long length, int seed)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (long i = 0; i < length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return values;
    }
}
