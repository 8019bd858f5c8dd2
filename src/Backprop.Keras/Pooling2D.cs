using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>
/// What <see cref="MaxPooling2D"/> and <see cref="AveragePooling2D"/> share: pool size, strides (default: the
/// pool size), and Keras's valid/same padding with the output sizes of <see cref="Keras.Padding"/>.
/// </summary>
public abstract class Pooling2D : Layer
{
    private protected int top, bottom, left, right;

    private protected Pooling2D(Size2D? poolSize, Size2D? strides, string padding, KerasShape? inputShape, string? name)
        : base(name, inputShape)
    {
        var p = poolSize ?? 2;
        string where = $"{GetType().Name}({p})";
        if (p.Height < 1 || p.Width < 1) throw new ArgumentException($"{where}: the pool size must be positive.");
        var s = strides ?? p;
        if (s.Height < 1 || s.Width < 1) throw new ArgumentException($"{where}: strides {s} must be positive.");
        PoolSize = p;
        Strides = s;
        Padding = Keras.Padding.Validate(padding, where);
    }

    public Size2D PoolSize { get; }
    public Size2D Strides { get; }

    /// <summary>"valid" or "same".</summary>
    public string Padding { get; }

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 3) throw ShapeError(input, "an image input (None, height, width, channels)");
        var (oh, t, b) = Keras.Padding.Compute(Padding, input[0], PoolSize.Height, Strides.Height);
        var (ow, l, r) = Keras.Padding.Compute(Padding, input[1], PoolSize.Width, Strides.Width);
        if (oh < 1 || ow < 1) throw ShapeError(input, $"an input of at least {PoolSize.Height}x{PoolSize.Width} pixels with valid padding");
        (top, bottom, left, right) = (t, b, l, r);
        Prepare(input);
        return new KerasShape(oh, ow, input[2]);
    }

    private protected virtual void Prepare(KerasShape input) { }

    private protected override void WriteConfig(JsonObject config)
    {
        config["pool_size"] = new JsonArray(PoolSize.Height, PoolSize.Width);
        config["strides"] = new JsonArray(Strides.Height, Strides.Width);
        config["padding"] = Padding;
    }
}

/// <summary>Keras's <c>MaxPooling2D</c>: the maximum of each window; same padding pads with −∞.</summary>
public sealed class MaxPooling2D(Size2D? poolSize = null, Size2D? strides = null, string padding = "valid",
    KerasShape? inputShape = null, string? name = null) : Pooling2D(poolSize, strides, padding, inputShape, name)
{
    internal override Tensor Forward(Tensor x, bool training) =>
        Functional.MaxPool2d(Keras.Padding.Pad(x, top, bottom, left, right, float.NegativeInfinity), PoolSize.Tuple, Strides.Tuple, (0, 0));
}

/// <summary>
/// Keras's <c>AveragePooling2D</c>: the mean of each window. With same padding a window at the border averages
/// only the input pixels it covers (padding is not counted), as TensorFlow does.
/// </summary>
public sealed class AveragePooling2D(Size2D? poolSize = null, Size2D? strides = null, string padding = "valid",
    KerasShape? inputShape = null, string? name = null) : Pooling2D(poolSize, strides, padding, inputShape, name)
{
    private Tensor? coverage;   // (1, 1, OH, OW): the fraction of each window that lies on the input

    private protected override void Prepare(KerasShape input)
    {
        if (top + bottom + left + right == 0) return;
        var mask = Keras.Padding.Pad(Tensor.Ones(1, 1, input[0], input[1]), top, bottom, left, right);
        coverage = Functional.AvgPool2d(mask, PoolSize.Tuple, Strides.Tuple, (0, 0));
    }

    internal override Tensor Forward(Tensor x, bool training)
    {
        var y = Functional.AvgPool2d(Keras.Padding.Pad(x, top, bottom, left, right), PoolSize.Tuple, Strides.Tuple, (0, 0));
        return coverage is null ? y : y / coverage;
    }
}
