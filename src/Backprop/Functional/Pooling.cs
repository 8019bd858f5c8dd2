using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Max pooling over (N, C, H, W). Output size (H + 2·pad − kernel) / stride + 1, rounded down, or up
    /// with <paramref name="ceilMode"/> (Caffe's rule; a window may not start in the right padding).
    /// The stride defaults to the kernel size. The gradient goes to the first maximum of each window.
    /// </summary>
    public static Tensor MaxPool2d(Tensor input, int kernel, int? stride = null, int padding = 0, bool ceilMode = false) =>
        MaxPool2d(input, (kernel, kernel), (stride ?? kernel, stride ?? kernel), (padding, padding), ceilMode);

    /// <inheritdoc cref="MaxPool2d(Tensor, int, int?, int, bool)"/>
    public static Tensor MaxPool2d(Tensor input, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding, bool ceilMode = false)
    {
        var g = PoolGeometry("MaxPool2d", input, kernel, stride, padding, ceilMode);
        var y = Tensor.Uninitialized(new Shape(g.Batch, g.Channels, g.OutHeight, g.OutWidth));
        if (!Autograd.GradMode.IsEnabled || !input.RequiresGrad)
        {
            Pooling.MaxForwardValues(g, input.Data, y.AsSpan());   // nothing will be recorded: no argmax needed
            return y;
        }
        var argmax = TensorMemoryPool.RentInts(y.Length);
        Pooling.MaxForward(g, input.Data, y.AsSpan(), argmax);
        return Tensor.Record(y, "MaxPool2DWithIndicesBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);   // the kernel clears and fills every plane
            Pooling.MaxBackward(g, dy.Data, argmax, dx.AsSpan());
            return [dx];
        }, input);
    }

    /// <summary>
    /// Average pooling over (N, C, H, W); sizes as <see cref="MaxPool2d(Tensor, int, int?, int, bool)"/>.
    /// With <paramref name="countIncludePad"/> (Caffe's and PyTorch's default) each window divides by its
    /// size clipped to the padded input; otherwise by the number of real input elements in it.
    /// </summary>
    public static Tensor AvgPool2d(Tensor input, int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        AvgPool2d(input, (kernel, kernel), (stride ?? kernel, stride ?? kernel), (padding, padding), ceilMode, countIncludePad);

    /// <inheritdoc cref="AvgPool2d(Tensor, int, int?, int, bool, bool)"/>
    public static Tensor AvgPool2d(Tensor input, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding,
        bool ceilMode = false, bool countIncludePad = true)
    {
        var g = PoolGeometry("AvgPool2d", input, kernel, stride, padding, ceilMode);
        var y = Tensor.Uninitialized(new Shape(g.Batch, g.Channels, g.OutHeight, g.OutWidth));
        Pooling.AvgForward(g, input.Data, y.AsSpan(), countIncludePad);
        return Tensor.Record(y, "AvgPool2DBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);   // the kernel clears and fills every plane
            Pooling.AvgBackward(g, dy.Data, dx.AsSpan(), countIncludePad);
            return [dx];
        }, input);
    }

    /// <summary>
    /// Average pooling to a fixed output size (PyTorch's AdaptiveAvgPool2d): output cell i covers input
    /// rows floor(i·H/OH) to ceil((i+1)·H/OH). (1, 1) is global average pooling.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, (int Height, int Width) outputSize)
    {
        if (input.Rank != 4) throw new ArgumentException($"AdaptiveAvgPool2d expects input of shape (N, C, H, W), got {input.Shape}.");
        if (outputSize.Height < 1 || outputSize.Width < 1) throw new ArgumentException($"AdaptiveAvgPool2d output size {outputSize} must be positive.");
        int n = input.Shape[0], c = input.Shape[1], h = input.Shape[2], w = input.Shape[3];
        var y = Tensor.Result(new Shape(n, c, outputSize.Height, outputSize.Width));
        AdaptivePooling.AvgForward(n * c, h, w, outputSize.Height, outputSize.Width, input.Data, y.AsSpan());
        return Tensor.Record(y, "AdaptiveAvgPool2DBackward", (dy, _) =>
        {
            var dx = Tensor.Result(input.Shape);
            AdaptivePooling.AvgBackward(n * c, h, w, outputSize.Height, outputSize.Width, dy.Data, dx.AsSpan());
            return [dx];
        }, input);
    }

    /// <summary>Mean over each channel's plane: (N, C, H, W) to (N, C, 1, 1).</summary>
    public static Tensor GlobalAvgPool2d(Tensor input) => AdaptiveAvgPool2d(input, (1, 1));

    private static Pool2dGeometry PoolGeometry(string op, Tensor input, (int Height, int Width) kernel, (int Height, int Width) stride,
        (int Height, int Width) padding, bool ceilMode)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4) throw new ArgumentException($"{op} expects input of shape (N, C, H, W), got {input.Shape}.");
        if (kernel.Height < 1 || kernel.Width < 1 || stride.Height < 1 || stride.Width < 1)
            throw new ArgumentException($"{op}: kernel {kernel} and stride {stride} must be positive.");
        // Caffe's limit, pad < kernel (PyTorch's is half the kernel, and everything PyTorch takes is taken here).
        if (padding.Height < 0 || padding.Width < 0 || padding.Height >= kernel.Height || padding.Width >= kernel.Width)
            throw new ArgumentException($"{op}: padding {padding} must be non-negative and smaller than the kernel {kernel}.");
        int h = input.Shape[2], w = input.Shape[3];
        int oh = Pool2dGeometry.OutputSize(h, kernel.Height, stride.Height, padding.Height, ceilMode);
        int ow = Pool2dGeometry.OutputSize(w, kernel.Width, stride.Width, padding.Width, ceilMode);
        // A negative numerator (kernel larger than the padded input) must not round toward zero into one output.
        bool fits = h + 2 * padding.Height - kernel.Height + (ceilMode ? stride.Height - 1 : 0) >= 0
            && w + 2 * padding.Width - kernel.Width + (ceilMode ? stride.Width - 1 : 0) >= 0;
        if (oh < 1 || ow < 1 || !fits)
            throw new ArgumentException($"{op}: input {input.Shape} is too small for kernel {kernel} with padding {padding}.");
        return new Pool2dGeometry(input.Shape[0], input.Shape[1], h, w, kernel.Height, kernel.Width, stride.Height, stride.Width,
            padding.Height, padding.Width, oh, ow);
    }
}
