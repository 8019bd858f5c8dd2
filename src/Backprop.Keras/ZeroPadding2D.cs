using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>ZeroPadding2D</c>: rows of zeros above and below, columns left and right, on a (height, width,
/// channels) input; output (top + h + bottom, left + w + right, channels), no weights.
/// <c>padding: 1</c> pads one on every side, <c>padding: (1, 2)</c> one row above and below and two columns each
/// side, <c>padding: ((1, 2), (3, 4))</c> gives ((top, bottom), (left, right)) as Keras does.
/// </summary>
public sealed class ZeroPadding2D : Layer
{
    /// <summary>Symmetric padding: <paramref name="padding"/>.Height rows above and below, .Width columns left and right (Keras's default (1, 1)).</summary>
    public ZeroPadding2D(Size2D? padding = null, KerasShape? inputShape = null, string? name = null)
        : this(Symmetric(padding ?? 1), inputShape, name) { }

    /// <summary>Padding given per side: ((top, bottom), (left, right)).</summary>
    public ZeroPadding2D(((int Top, int Bottom) Height, (int Left, int Right) Width) padding, KerasShape? inputShape = null, string? name = null)
        : base(name, inputShape)
    {
        var ((top, bottom), (left, right)) = padding;
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            throw new ArgumentException($"ZeroPadding2D((({top}, {bottom}), ({left}, {right}))): padding cannot be negative.");
        if (inputShape is not null && inputShape.Rank != 3)
            throw new ArgumentException($"ZeroPadding2D: inputShape must be (height, width, channels), got {inputShape}.");
        (Top, Bottom, Left, Right) = (top, bottom, left, right);
    }

    private static ((int, int), (int, int)) Symmetric(Size2D p) => ((p.Height, p.Height), (p.Width, p.Width));

    public int Top { get; }
    public int Bottom { get; }
    public int Left { get; }
    public int Right { get; }

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 3) throw ShapeError(input, "an image input (None, height, width, channels)");
        return new KerasShape(input[0] + Top + Bottom, input[1] + Left + Right, input[2]);
    }

    internal override Tensor Forward(Tensor x, bool training) => Keras.Padding.Pad(x, Top, Bottom, Left, Right);

    private protected override void WriteConfig(JsonObject config) =>
        config["padding"] = new JsonArray(new JsonArray(Top, Bottom), new JsonArray(Left, Right));
}
