using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// RoIAlign (Mask R-CNN; torchvision 0.14's <c>roi_align</c>): each region of interest becomes a fixed
    /// (PH, PW) grid of averaged bilinear samples. input: (N, C, H, W); rois: (K, 5), rows [image, x1, y1, x2, y2]
    /// in image coordinates (multiplied by <paramref name="spatialScale"/> to reach the feature map). Output (K, C, PH, PW).
    /// With o = 0.5 when <paramref name="aligned"/> else 0, the RoI spans [x1·s − o, x2·s − o] × [y1·s − o, y2·s − o],
    /// its width and height forced to at least 1 when not aligned (an aligned RoI may be empty: output 0). Each bin holds
    /// gh × gw samples at the centres of a regular sub-grid, gh = <paramref name="samplingRatio"/> if positive, else
    /// ceil(roiHeight / PH) for that RoI (likewise gw), and the bin is their mean. A sample above −1 and below the far edge
    /// interpolates the four nearest pixels, its coordinates below 0 clamped to 0 and past H − 1 (W − 1) to the edge;
    /// a sample further out counts as 0. Autograd node "RoiAlignBackward" gives the input's gradient; the RoIs get none
    /// (as in torchvision), even when they require a gradient.
    /// </summary>
    public static Tensor RoiAlign(Tensor input, Tensor rois, (int Height, int Width) outputSize, float spatialScale = 1f,
        int samplingRatio = -1, bool aligned = false)
    {
        var g = RoiArguments("RoiAlign", input, rois, outputSize, spatialScale);
        var y = Tensor.Uninitialized(new Shape(g.RoiCount, g.Channels, g.PooledHeight, g.PooledWidth));
        Kernels.RoiAlign.Forward(g, samplingRatio, aligned, input.Data, rois.Data, y.AsSpan());
        return Tensor.Record(y, "RoiAlignBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);   // the kernel clears and fills every plane
            Kernels.RoiAlign.Backward(g, samplingRatio, aligned, dy.Data, rois.Data, dx.AsSpan());
            return [dx];
        }, input);
    }

    /// <summary>
    /// Checks the arguments of a RoI op and returns its geometry: input (N, C, H, W) with positive sizes, rois (K, 5)
    /// whose image index is an integer in [0, N) and whose coordinates times the scale are finite and within ±2^24
    /// (where a float still tells pixels apart), a positive output size and a positive finite scale.
    /// </summary>
    private static RoiGeometry RoiArguments(string op, Tensor input, Tensor rois, (int Height, int Width) outputSize, float spatialScale)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(rois);
        if (input.Rank != 4 || input.Length == 0)
            throw new ArgumentException($"{op} expects input of shape (N, C, H, W) with positive sizes, got {input.Shape}.");
        if (rois.Rank != 2 || rois.Shape[1] != 5)
            throw new ArgumentException($"{op} expects rois of shape (K, 5) with rows [image, x1, y1, x2, y2], got {rois.Shape}.");
        if (outputSize.Height < 1 || outputSize.Width < 1)
            throw new ArgumentException($"{op}: output size {outputSize} must be positive.");
        if (!float.IsFinite(spatialScale) || spatialScale <= 0)
            throw new ArgumentException($"{op}: spatial scale {spatialScale} must be positive and finite.");
        var g = new RoiGeometry(input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3], rois.Shape[0], outputSize.Height, outputSize.Width, spatialScale);
        g.Validate();
        g.CheckRois(rois.Data, op);
        return g;
    }
}
