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

    /// <summary>
    /// <c>Relu(Conv2d(input, ...) + residual)</c> as one op (a ResNet block's second convolution, its shortcut and the ReLU
    /// after the sum): the same bits forward and backward as the three ops. residual has the convolution's output shape.
    /// Where an evaluation-mode <see cref="Nn.Conv2d"/>'s kept weights run (see <see cref="Nn.Conv2d.ForwardAddRelu"/>), each
    /// thread adds the residual to its own part of the output while that part is in its cache; elsewhere the sum is a pass
    /// after the convolution. Backward masks the gradient by this op's output; the residual's gradient is that masked one.
    /// </summary>
    public static Tensor Conv2dAddRelu(Tensor input, Tensor weight, Tensor? bias, Tensor residual, (int Height, int Width) stride,
        (int Height, int Width) padding, (int Height, int Width) dilation, int groups = 1) =>
        Conv2d(input, weight, bias, stride, padding, dilation, groups, relu: true, cache: null, residual ?? throw new ArgumentNullException(nameof(residual)));

    // cache: an evaluation-mode Conv2d's kept Winograd weights (WinogradWeightCache), or null. residual: y = Relu(conv + residual)
    // (relu must be true), or null.
    internal static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation, int groups, bool relu, WinogradWeightCache? cache = null, Tensor? residual = null)
    {
        var g = ConvolutionGeometry(input, weight, bias, stride, padding, dilation, groups, relu, residual);
        var outShape = new Shape(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        var y = Tensor.Uninitialized(outShape);
        var added = residual is null ? default : residual.Data;
        if (cache is null || !cache.TryForward(g, input.Data, weight.Data, bias is null ? default : bias.Data, y.AsSpan(), relu, added))
        {
            Convolution.Forward(g, input.Data, weight.Data, bias is null ? default : bias.Data, y.AsSpan(), relu && residual is null);
            if (residual is not null) Activations.AddReluForward(y.Data, added, y.AsSpan());
        }

        Tensor[] inputs = (bias, residual) switch
        {
            (null, null) => [input, weight],
            (null, _) => [input, weight, residual],
            (_, null) => [input, weight, bias],
            _ => [input, weight, bias, residual],
        };
        string name = residual is not null ? "ConvolutionAddReluBackward" : relu ? "ConvolutionReluBackward" : "ConvolutionBackward";
        return Tensor.Record(y, name, (dy, needs) =>
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
            Tensor? dr = residual is not null && needs[^1] ? dy : null;   // the masked gradient: d(conv + residual)/d residual = 1
            return (bias, residual) switch
            {
                (null, null) => [dx, dw],
                (null, _) => [dx, dw, dr],
                (_, null) => [dx, dw, db],
                _ => [dx, dw, db, dr],
            };
        }, inputs);
    }

    // The geometry of a convolution of input by weight, every argument checked, with messages in the caller's terms
    // (Conv2dGeometry owns the rules on sizes, kernel, stride, padding, dilation and groups).
    private static Conv2dGeometry ConvolutionGeometry(Tensor input, Tensor weight, Tensor? bias, (int Height, int Width) stride,
        (int Height, int Width) padding, (int Height, int Width) dilation, int groups, bool relu, Tensor? residual)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4) throw new ArgumentException($"Conv2d expects input of shape (N, C, H, W), got {input.Shape}.");
        if (weight.Rank != 4) throw new ArgumentException($"Conv2d expects weight of shape (K, C/groups, KH, KW), got {weight.Shape}.");
        var g = new Conv2dGeometry(input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3],
            weight.Shape[0], weight.Shape[2], weight.Shape[3], stride.Height, stride.Width,
            padding.Height, padding.Width, dilation.Height, dilation.Width, groups);
        if (g.Problem() is string problem)
            throw new ArgumentException($"Conv2d: input {input.Shape}, weight {weight.Shape}, stride {stride}, padding {padding}, dilation {dilation}, groups {groups}: {problem}");
        if (input.Shape[1] != weight.Shape[1] * groups)
            throw new ArgumentException($"Conv2d: input {input.Shape} has {input.Shape[1]} channels, but weight {weight.Shape} with groups={groups} expects {weight.Shape[1] * groups}.");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
            throw new ArgumentException($"Conv2d: bias of shape {bias.Shape} does not match {weight.Shape[0]} output channels.");

        var outShape = new Shape(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        if (residual is not null && residual.Shape != outShape)
            throw new ArgumentException($"Conv2dAddRelu: the residual's shape {residual.Shape} is not the convolution's output shape {outShape}.");
        if (residual is not null && !relu) throw new ArgumentException("Conv2d: a residual is added only with the ReLU after it (Conv2dAddRelu).");
        return g;
    }
}
