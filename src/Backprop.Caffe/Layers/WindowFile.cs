using System.Globalization;

namespace Backprop.Caffe.Layers;

/// <summary>
/// The window file of Caffe's WindowData layer (R-CNN's fine-tuning input): whitespace-separated fields, repeated per
/// image — <c># image_index</c>, the image path, its channels, height and width, the number of windows, then per
/// window <c>class overlap x1 y1 x2 y2</c> (inclusive pixel corners). A window whose overlap is at least fg_threshold
/// is foreground (its class must be positive); below bg_threshold it is background (class and overlap become 0);
/// in between it is dropped, as Caffe does.
/// </summary>
internal sealed class WindowFile
{
    /// <summary>An image of the file: path (as written, root folder prepended), declared size, and the line it starts on.</summary>
    public readonly record struct ImageEntry(string Path, int Channels, int Height, int Width, int Line);

    /// <summary>A window: its image (index into <see cref="Images"/>), class label, overlap, box corners, and its line.</summary>
    public readonly record struct Window(int Image, int Label, float Overlap, int X1, int Y1, int X2, int Y2, int Line);

    public List<ImageEntry> Images { get; } = [];
    public List<Window> Foreground { get; } = [];
    public List<Window> Background { get; } = [];

    /// <summary>Parses <paramref name="file"/>; <paramref name="where"/> (the layer) and the file name head every message.</summary>
    public static WindowFile Read(string file, string rootFolder, float fgThreshold, float bgThreshold, string where)
    {
        var tokens = new Tokens(file, where);
        var result = new WindowFile();
        if (!tokens.More) throw new CaffeNetException($"{where}: the window file {file} is empty.");
        while (tokens.More)
        {
            int line = tokens.Line;
            string hash = tokens.Next("'#' starting an image");
            if (hash != "#") throw tokens.Error($"expected '#' starting image {result.Images.Count}, found '{hash}'");
            int index = tokens.Int("the image index");
            if (index != result.Images.Count)
                throw tokens.Error($"image index {index} is out of sequence; images must be numbered 0, 1, 2, ... in order (expected {result.Images.Count})");
            string path = rootFolder + tokens.Next("the image path");
            int channels = tokens.Positive("the image's channels"), height = tokens.Positive("the image's height"), width = tokens.Positive("the image's width");
            result.Images.Add(new ImageEntry(path, channels, height, width, line));
            int windows = tokens.Int("the number of windows");
            if (windows < 0) throw tokens.Error($"image {index} has {windows} windows");
            for (int i = 0; i < windows; i++)
            {
                int windowLine = tokens.Line;
                int label = tokens.Int("a window's class");
                float overlap = tokens.Float("a window's overlap");
                int x1 = tokens.Int("x1"), y1 = tokens.Int("y1"), x2 = tokens.Int("x2"), y2 = tokens.Int("y2");
                if (overlap >= fgThreshold)
                {
                    if (label <= 0) throw tokens.Error($"window {i} of image {index} overlaps {overlap} (foreground at fg_threshold {fgThreshold}) but has class {label}; foreground classes must be positive (0 is background)");
                    result.Foreground.Add(new Window(index, label, overlap, x1, y1, x2, y2, windowLine));
                }
                else if (overlap < bgThreshold) result.Background.Add(new Window(index, 0, 0, x1, y1, x2, y2, windowLine));
            }
        }
        return result;
    }

    /// <summary>The file's whitespace-separated fields with their line numbers, read as C++'s <c>operator&gt;&gt;</c> does.</summary>
    private sealed class Tokens
    {
        private readonly List<(string Text, int Line)> items = [];
        private readonly string file, where;
        private int next;

        public Tokens(string file, string where)
        {
            (this.file, this.where) = (file, where);
            int number = 0;
            foreach (string line in File.ReadLines(file))
            {
                number++;
                foreach (string field in line.Split([' ', '\t', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries)) items.Add((field, number));
            }
        }

        public bool More => next < items.Count;

        /// <summary>The line of the next field (or the last line at the end).</summary>
        public int Line => next < items.Count ? items[next].Line : items.Count > 0 ? items[^1].Line : 0;

        public string Next(string what)
        {
            if (!More) throw Error($"the file ends where {what} should be");
            return items[next++].Text;
        }

        public int Int(string what)
        {
            int line = Line;
            string text = Next(what);
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
                throw new CaffeNetException($"{where}: line {line} of {file}: {what} should be an integer, found '{text}'.");
            return value;
        }

        public int Positive(string what)
        {
            int value = Int(what);
            return value > 0 ? value : throw Error($"{what} should be positive, found {value}");
        }

        public float Float(string what)
        {
            int line = Line;
            string text = Next(what);
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                throw new CaffeNetException($"{where}: line {line} of {file}: {what} should be a number, found '{text}'.");
            return value;
        }

        public CaffeNetException Error(string message) => new($"{where}: line {Math.Max(next > 0 ? items[next - 1].Line : Line, 1)} of {file}: {message}.");
    }
}
