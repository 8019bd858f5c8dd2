using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Local response normalization of (N, C, H, W): y = x · (k + α/size · Σ x²)^−β, the sum over `size` neighbouring
    /// channels (PyTorch's local_response_norm, Caffe's ACROSS_CHANNELS); with <paramref name="withinChannel"/>, over a
    /// size x size neighbourhood in each channel's own plane with α/size² (Caffe's WITHIN_CHANNEL, where k is 1).
    /// </summary>
    public static Tensor LocalResponseNorm(Tensor input, int size, float alpha = 1e-4f, float beta = 0.75f, float k = 1f, bool withinChannel = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4) throw new ArgumentException($"LocalResponseNorm expects input of shape (N, C, H, W), got {input.Shape}.");
        if (size < 1 || size % 2 == 0) throw new ArgumentException($"LocalResponseNorm needs an odd, positive window size, got {size}.");
        int n = input.Shape[0], c = input.Shape[1], h = input.Shape[2], w = input.Shape[3];
        bool across = !withinChannel;
        var y = Tensor.Uninitialized(input.Shape);
        var scale = Tensor.Uninitialized(input.Shape);
        var power = Tensor.Uninitialized(input.Shape);
        Kernels.LocalResponseNorm.Forward(input.Data, n, c, h, w, size, alpha, beta, k, across, y.AsSpan(), scale.AsSpan(), power.AsSpan());
        return Tensor.Record(y, "LocalResponseNormBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            Kernels.LocalResponseNorm.Backward(input.Data, y.Data, scale.Data, power.Data, dy.Data, n, c, h, w, size, alpha, beta, across, dx.AsSpan());
            return [dx];
        }, input);
    }
}
