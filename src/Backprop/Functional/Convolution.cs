using Backprop.Kernels;

namespace Backprop;

/// <summary>
/// Stateless ops, each one autograd node with a hand-written backward (PyTorch's <c>torch.nn.functional</c>).
/// Layers in <see cref="Nn"/> hold parameters and call these.
/// </summary>
public static partial class Functional
{
    /// <summary>2-D convolution with square stride, padding and dilation. See the tuple overload.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>
    /// 2-D convolution (cross-correlation, as in every framework). input: (N, C, H, W);
    /// weight: (K, C/groups, KH, KW); bias: (K) or null. Output (N, K, OH, OW) with
    /// OH = (H + 2·padH − dilH·(KH − 1) − 1) / strideH + 1 (rounded down), likewise OW.
    /// A 1x1 kernel with stride 1 and no padding is a matrix product per image (no im2col).
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation, int groups = 1) =>
        Conv2d(input, weight, bias, stride, padding, dilation, groups, relu: false);

    /// <summary><c>Relu(Conv2d(...))</c> as one op with square stride, padding and dilation. See the tuple overload.</summary>
    public static Tensor Conv2dRelu(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2dRelu(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>
    /// <c>Relu(Conv2d(...))</c> as one op, with the same bits forward and backward: the ReLU runs on each output panel
    /// while the convolution kernel still has it in cache, and the convolution's own output is never stored (backward
    /// masks the gradient by this op's output). Arguments as <see cref="Conv2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, int)"/>.
    /// </summary>
    public static Tensor Conv2dRelu(Tensor input, Tensor weight, Tensor? bias, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation, int groups = 1) =>
        Conv2d(input, weight, bias, stride, padding, dilation, groups, relu: true);

    // cache: an evaluation-mode Conv2d's kept Winograd weights (WinogradWeightCache), or null.
    internal static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation, int groups, bool relu, WinogradWeightCache? cache = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4) throw new ArgumentException($"Conv2d expects input of shape (N, C, H, W), got {input.Shape}.");
        if (weight.Rank != 4) throw new ArgumentException($"Conv2d expects weight of shape (K, C/groups, KH, KW), got {weight.Shape}.");
        // Sizes, kernel, stride, padding, dilation and groups: Conv2dGeometry owns those rules and their messages.
        var g = new Conv2dGeometry(input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3],
            weight.Shape[0], weight.Shape[2], weight.Shape[3], stride.Height, stride.Width,
            padding.Height, padding.Width, dilation.Height, dilation.Width, groups);
        if (g.Problem() is string problem)
            throw new ArgumentException($"Conv2d: input {input.Shape}, weight {weight.Shape}, stride {stride}, padding {padding}, dilation {dilation}, groups {groups}: {problem}");
        if (input.Shape[1] != weight.Shape[1] * groups)
            throw new ArgumentException($"Conv2d: input {input.Shape} has {input.Shape[1]} channels, but weight {weight.Shape} with groups={groups} expects {weight.Shape[1] * groups}.");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
            throw new ArgumentException($"Conv2d: bias of shape {bias.Shape} does not match {weight.Shape[0]} output channels.");

        var y = Tensor.Uninitialized(new Shape(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth));
        if (cache is null || !cache.TryForward(g, input.Data, weight.Data, bias is null ? default : bias.Data, y.AsSpan(), relu))
            Convolution.Forward(g, input.Data, weight.Data, bias is null ? default : bias.Data, y.AsSpan(), relu);

        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Tensor.Record(y, relu ? "ConvolutionReluBackward" : "ConvolutionBackward", (dy, needs) =>
        {
            if (relu)
            {
                var masked = Tensor.Uninitialized(y.Shape);   // y > 0 exactly where the convolution's output was
                Activations.ReluBackward(y.Data, dy.Data, masked.AsSpan());
                dy = masked;
            }
            Tensor? dx = null, dw = null, db = null;
            if (needs[0])
            {
                dx = Tensor.Uninitialized(input.Shape);   // overwritten by the kernel
                Convolution.BackwardData(g, dy.Data, weight.Data, dx.AsSpan());
            }
            bool needBias = bias is not null && needs[2];
            if (needs[1] || needBias)
            {
                // The weight kernel computes the bias gradient in the same pass; it is cheap when only one is wanted.
                dw = Tensor.Uninitialized(weight.Shape);
                db = needBias ? Tensor.Uninitialized(bias!.Shape) : null;
                Convolution.BackwardWeights(g, input.Data, dy.Data, dw.AsSpan(), db is null ? default : db.AsSpan());
                if (!needs[1]) dw = null;
            }
            return bias is null ? [dx, dw] : [dx, dw, db];
        }, inputs);
    }
}
