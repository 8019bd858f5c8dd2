namespace Backprop.Cli;

/// <summary>
/// A CIFAR-shaped image set made up from a seed: 32x32 colour images in 10 classes, each class one shape family
/// (disc, square, triangle, ring, cross, horizontal stripes, vertical stripes, checkerboard, diamond, two dots) drawn
/// in a colour near the class's own hue, at a random place and size, tilted a little, over a textured background of random
/// colours (gradient, blobs or noise, none tied to a class), with pixel noise. Hues of neighbouring classes overlap,
/// so colour alone does not give the class: a net has to learn the shapes.
/// </summary>
/// <remarks>
/// Each image comes from its own generator seeded by (seed, split, index), so the set is the same bit for bit on any
/// thread count. Pixels are (C, H, W) bytes, channels in R, G, B order as in CIFAR-10's binary files; labels cycle
/// 0..9 (every 10 consecutive images hold one of each class).
/// </remarks>
internal static class SyntheticCifar
{
    public const int Classes = 10, Channels = 3, Size = 32, ImageBytes = Channels * Size * Size;

    /// <summary>The class names, in label order.</summary>
    public static readonly string[] ClassNames =
        ["disc", "square", "triangle", "ring", "cross", "hstripes", "vstripes", "checker", "diamond", "dots"];

    /// <summary>Makes <paramref name="count"/> images of one split (0 training, 1 test): pixels (N, 3, 32, 32) and labels (N).</summary>
    public static (byte[] Pixels, byte[] Labels) Generate(int count, ulong seed, int split)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var pixels = new byte[(long)count * ImageBytes];
        var labels = new byte[count];
        Parallel.For(0, count, i =>
        {
            labels[i] = (byte)(i % Classes);
            Draw(pixels.AsSpan(i * ImageBytes, ImageBytes), labels[i], new Generator(ImageSeed(seed, split, i)));
        });
        return (pixels, labels);
    }

    private static ulong ImageSeed(ulong seed, int split, int index)
    {
        // SplitMix64's finalizer over the three numbers, so nearby indices get unrelated streams.
        ulong z = seed * 0x9E3779B97F4A7C15UL + (ulong)split * 0xBF58476D1CE4E5B9UL + (ulong)index * 0x94D049BB133111EBUL + 1;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static void Draw(Span<byte> image, int label, Generator g)
    {
        // Background: two random colours mixed by a texture chosen at random.
        Span<float> a = stackalloc float[3], b = stackalloc float[3], fg = stackalloc float[3];
        for (int c = 0; c < 3; c++) { a[c] = g.NextFloat(); b[c] = g.NextFloat(); }
        int texture = g.NextInt(3);
        float angle = g.NextFloat() * MathF.PI, frequency = 0.15f + 0.5f * g.NextFloat(), phase = g.NextFloat() * 6.3f;
        // Foreground: the class's hue (36 degrees apart) +- 30 degrees, random saturation and brightness.
        float hue = (label * 36f + (g.NextFloat() - 0.5f) * 60f + 360f) % 360f;
        HsvToRgb(hue, 0.55f + 0.45f * g.NextFloat(), 0.5f + 0.5f * g.NextFloat(), fg);
        float cx = 10 + 12 * g.NextFloat(), cy = 10 + 12 * g.NextFloat(), radius = 6 + 6 * g.NextFloat();
        // A tilt of at most 20 degrees: square and diamond, horizontal and vertical stripes stay apart.
        float rotation = (g.NextFloat() - 0.5f) * 0.7f, cos = MathF.Cos(rotation), sin = MathF.Sin(rotation);
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                float t = texture switch
                {
                    0 => (x * MathF.Cos(angle) + y * MathF.Sin(angle)) / (Size * 1.5f) + 0.2f,             // gradient
                    1 => 0.5f + 0.5f * MathF.Sin(frequency * x + phase) * MathF.Cos(frequency * y - phase), // blobs
                    _ => g.NextFloat(),                                                                    // noise
                };
                float u = ((x - cx) * cos + (y - cy) * sin) / radius, v = (-(x - cx) * sin + (y - cy) * cos) / radius;
                bool inside = Inside(label, u, v);
                for (int c = 0; c < 3; c++)
                {
                    float value = inside ? fg[c] : a[c] + (b[c] - a[c]) * t;
                    value += (g.NextFloat() - 0.5f) * 0.12f;
                    image[c * Size * Size + y * Size + x] = (byte)Math.Clamp((int)(value * 255f + 0.5f), 0, 255);
                }
            }
    }

    /// <summary>Whether (u, v), in the shape's own frame scaled by its radius, lies inside class <paramref name="label"/>'s shape.</summary>
    private static bool Inside(int label, float u, float v)
    {
        float au = MathF.Abs(u), av = MathF.Abs(v), r2 = u * u + v * v;
        bool square = au <= 0.8f && av <= 0.8f;
        return label switch
        {
            0 => r2 <= 0.8f,
            1 => square,
            2 => v <= 0.7f && v >= -0.8f + 2.2f * au,
            3 => r2 <= 1f && r2 >= 0.45f,
            4 => (au <= 0.25f && av <= 0.95f) || (av <= 0.25f && au <= 0.95f),
            5 => square && ((int)MathF.Floor((v + 1) * 3.5f) & 1) == 0,
            6 => square && ((int)MathF.Floor((u + 1) * 3.5f) & 1) == 0,
            7 => square && (((int)MathF.Floor((u + 1) * 2.5f) + (int)MathF.Floor((v + 1) * 2.5f)) & 1) == 0,
            8 => au + av <= 0.95f,
            _ => (u - 0.45f) * (u - 0.45f) + v * v <= 0.16f || (u + 0.45f) * (u + 0.45f) + v * v <= 0.16f,
        };
    }

    private static void HsvToRgb(float hue, float saturation, float value, Span<float> rgb)
    {
        float c = value * saturation, h = hue / 60f, x = c * (1 - MathF.Abs(h % 2 - 1)), m = value - c;
        (float r, float g, float b) = (int)h switch
        {
            0 => (c, x, 0f), 1 => (x, c, 0f), 2 => (0f, c, x), 3 => (0f, x, c), 4 => (x, 0f, c), _ => (c, 0f, x),
        };
        rgb[0] = r + m; rgb[1] = g + m; rgb[2] = b + m;
    }
}
