using Backprop;

namespace Filters;

/// <summary>
/// Generated 16x16 grayscale images in four classes: vertical edge, horizontal edge, vertical bar,
/// horizontal bar, at random positions and brightness, with noise. A net must learn oriented edge
/// detectors to tell them apart, which is what its first-layer filters become.
/// </summary>
public static class BarsAndEdges
{
    public const int Size = 16;
    public static readonly string[] ClassNames = ["vertical edge", "horizontal edge", "vertical bar", "horizontal bar"];

    /// <summary>Images (count, 1, 16, 16) and labels, drawn from <paramref name="generator"/>.</summary>
    public static (Tensor Images, int[] Labels) Generate(int count, Generator generator)
    {
        var pixels = new float[count * Size * Size];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            int label = generator.NextInt(ClassNames.Length);
            labels[n] = label;
            float dark = 0.1f + 0.3f * generator.NextFloat();
            float bright = 0.6f + 0.4f * generator.NextFloat();
            int at = 3 + generator.NextInt(Size - 6);          // edge position or bar start
            int width = 2 + generator.NextInt(2);               // bar width
            var image = pixels.AsSpan(n * Size * Size, Size * Size);
            for (int r = 0; r < Size; r++)
                for (int c = 0; c < Size; c++)
                {
                    int across = label is 0 or 2 ? c : r;       // coordinate that crosses the edge or bar
                    bool on = label < 2 ? across >= at : across >= at && across < at + width;
                    image[r * Size + c] = (on ? bright : dark) + 0.15f * generator.NextNormal();
                }
        }
        return (Tensor.FromArray(pixels, count, 1, Size, Size), labels);
    }
}
