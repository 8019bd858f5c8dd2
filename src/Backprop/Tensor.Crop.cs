namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// The window of this tensor that starts at <paramref name="offsets"/> and has shape <paramref name="sizes"/>, one value per
    /// axis (copies; Caffe's Crop). The gradient goes back into the window's place; the rest of the input gets zero.
    /// </summary>
    public Tensor Crop(int[] offsets, int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(sizes);
        if (offsets.Length != Rank || sizes.Length != Rank)
            throw new ArgumentException($"Crop of a tensor of shape {Shape} needs {Rank} offsets and sizes, got {offsets.Length} and {sizes.Length}.");
        for (int i = 0; i < Rank; i++)
            if (offsets[i] < 0 || sizes[i] < 0 || (long)offsets[i] + sizes[i] > Shape[i])
                throw new ArgumentException($"Crop: axis {i} of shape {Shape} has size {Shape[i]}, too small for offset {offsets[i]} and size {sizes[i]}.");
        Shape original = Shape, cropped = new((int[])sizes.Clone());
        int[] start = (int[])offsets.Clone();
        var y = Tensor.Uninitialized(cropped);
        CopyWindow(original, start, cropped, Data, y.AsSpan(), toWindow: true);
        return Record(y, "CropBackward", (g, _) =>
        {
            var dx = Tensor.Result(original);
            CopyWindow(original, start, cropped, g.Data, dx.AsSpan(), toWindow: false);
            return [dx];
        }, this);
    }

    /// <summary>
    /// Copies between a window of a (full-shaped) tensor and a window-shaped one, one innermost row at a time:
    /// full → window when <paramref name="toWindow"/>, else window → its place in full (the rest of full untouched).
    /// </summary>
    private static void CopyWindow(Shape full, int[] offsets, Shape window, ReadOnlySpan<float> src, Span<float> dst, bool toWindow)
    {
        int rank = full.Rank;
        if (window.Length == 0) return;
        if (rank == 0) { src.CopyTo(dst); return; }
        var fullStrides = full.Strides();
        int row = window[rank - 1], rows = window.Length / row;
        var index = new int[rank];   // index of the current row in the window; the last entry stays 0
        for (int r = 0; r < rows; r++)
        {
            int at = 0;
            for (int d = 0; d < rank; d++) at += (index[d] + offsets[d]) * fullStrides[d];
            if (toWindow) src.Slice(at, row).CopyTo(dst.Slice(r * row, row));
            else src.Slice(r * row, row).CopyTo(dst.Slice(at, row));
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++index[d] < window[d]) break;
                index[d] = 0;
            }
        }
    }
}
