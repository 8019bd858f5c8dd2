using SkiaSharp;

namespace Backprop.Viz;

/// <summary>
/// The typeface for text drawn with SkiaSharp directly. The dependency-free native build has no font configuration, so
/// its default typeface may hold no glyphs: a system sans-serif (DejaVu, Liberation) is loaded from its file when found.
/// </summary>
internal static class Fonts
{
    private static readonly string[] Candidates =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        @"C:\Windows\Fonts\arial.ttf",
    ];

    public static SKTypeface Sans { get; } = Load();

    private static SKTypeface Load()
    {
        foreach (var path in Candidates)
            if (File.Exists(path) && SKTypeface.FromFile(path) is { } typeface) return typeface;
        return SKFontManager.Default.MatchFamily("sans-serif") ?? SKTypeface.Default;
    }
}
