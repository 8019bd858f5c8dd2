using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>
/// Keras's <c>UpSampling2D</c>: (h, w, c) to (h·size.Height, w·size.Width, c), no weights.
/// "nearest" repeats each pixel (a depthwise transposed convolution with a kernel of ones, so backward sums each
/// block); "bilinear" interpolates with half-pixel centres and clamped edges, as TensorFlow's <c>tf.image.resize</c>
/// (and PyTorch's <c>align_corners=False</c>), as two products with fixed interpolation matrices
/// (cost grows with height·width·(out height + out width) per channel).
/// </summary>
public sealed class UpSampling2D : Layer
{
    private Tensor? ones;                           // nearest: (C, 1, sh, sw) kernel of ones
    private Tensor? rowsFromInput, colsFromInput;   // bilinear: (H, OH)ᵀ and (W, OW) interpolation matrices

    public UpSampling2D(Size2D? size = null, string interpolation = "nearest", KerasShape? inputShape = null, string? name = null)
        : base(name, inputShape)
    {
        var s = size ?? 2;
        if (s.Height < 1 || s.Width < 1) throw new ArgumentException($"UpSampling2D({s}): size must be positive.");
        string i = interpolation?.Trim().ToLowerInvariant() ?? "";
        if (i != "nearest" && i != "bilinear")
            throw new ArgumentException($"UpSampling2D({s}): interpolation must be \"nearest\" or \"bilinear\", got \"{interpolation}\".");
        if (inputShape is not null && inputShape.Rank != 3)
            throw new ArgumentException($"UpSampling2D({s}): inputShape must be (height, width, channels), got {inputShape}.");
        Size = s;
        Interpolation = i;
    }

    /// <summary>The factors for rows and columns.</summary>
    public Size2D Size { get; }

    /// <summary>"nearest" or "bilinear".</summary>
    public string Interpolation { get; }

    private protected override KerasShape BuildCore(KerasShape input, Generator generator)
    {
        if (input.Rank != 3) throw ShapeError(input, "an image input (None, height, width, channels)");
        long oh = (long)input[0] * Size.Height, ow = (long)input[1] * Size.Width;
        if (oh > int.MaxValue || ow > int.MaxValue) throw ShapeError(input, $"an output under {int.MaxValue} pixels per side");
        if (Interpolation == "nearest")
            ones = Tensor.Ones(input[2], 1, Size.Height, Size.Width);
        else
        {
            rowsFromInput = Interpolate(input[0], (int)oh, Size.Height);
            colsFromInput = Interpolate(input[1], (int)ow, Size.Width);
        }
        return new KerasShape((int)oh, (int)ow, input[2]);
    }

    /// <summary>
    /// The (input, output) matrix M with output = inputᵀ·M along one axis: output o reads input position
    /// (o + ½)/scale − ½, clamped to the first and last pixel, mixing its two neighbours linearly.
    /// </summary>
    internal static Tensor Interpolate(int input, int output, int scale)
    {
        var m = new float[input * output];
        for (int o = 0; o < output; o++)
        {
            double src = Math.Max((o + 0.5) / scale - 0.5, 0.0);
            int i0 = Math.Min((int)Math.Floor(src), input - 1);
            int i1 = Math.Min(i0 + 1, input - 1);
            float w1 = (float)(src - i0);
            m[i0 * output + o] += 1f - w1;
            m[i1 * output + o] += w1;
        }
        return Tensor.FromArray(m, input, output);
    }

    internal override Tensor Forward(Tensor x, bool training)
    {
        if (ones is not null)
            return Functional.ConvTranspose2d(x, ones, null, Size.Tuple, (0, 0), (1, 1), groups: x.Shape[1]);
        // (N, C, H, W)·(W, OW) → (N, C, H, OW); swap the last two axes and do the rows the same way.
        var wide = x.MatMul(colsFromInput!);
        return wide.Transpose(2, 3).MatMul(rowsFromInput!).Transpose(2, 3);
    }

    private protected override void WriteConfig(JsonObject config)
    {
        config["size"] = new JsonArray(Size.Height, Size.Width);
        config["interpolation"] = Interpolation;
    }
}
