using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// RoI max pooling (Fast R-CNN; Caffe's ROIPooling, torchvision 0.14's <c>roi_pool</c>). input: (N, C, H, W);
    /// rois: (K, 5), rows [image, x1, y1, x2, y2] in image coordinates. Output (K, C, PH, PW). The RoI's corners are
    /// round(x·<paramref name="spatialScale"/>) (halves away from zero); its size is max(x2 − x1 + 1, 1) pixels
    /// (likewise height), cut into PH × PW bins of real size; bin (ph, pw) covers rows [floor(ph·bh), ceil((ph + 1)·bh))
    /// from the RoI's top, clipped to the feature map, likewise columns. Each output is its bin's maximum (the first in
    /// row-major order); a bin wholly outside the map gives 0 and no gradient. Autograd node "RoiPoolBackward" sends the
    /// gradient to each bin's maximum; the RoIs get none (as in torchvision), even when they require a gradient.
    /// </summary>
    public static Tensor RoiPool(Tensor input, Tensor rois, (int Height, int Width) outputSize, float spatialScale = 1f)
    {
        var g = RoiArguments("RoiPool", input, rois, outputSize, spatialScale);
        var y = Tensor.Uninitialized(new Shape(g.RoiCount, g.Channels, g.PooledHeight, g.PooledWidth));
        var argmax = TensorMemoryPool.RentInts(y.Length);
        Kernels.RoiPool.Forward(g, input.Data, rois.Data, y.AsSpan(), argmax);
        return Tensor.Record(y, "RoiPoolBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);   // the kernel clears and fills every plane
            Kernels.RoiPool.Backward(g, dy.Data, rois.Data, argmax, dx.AsSpan());
            return [dx];
        }, input);
    }
}
