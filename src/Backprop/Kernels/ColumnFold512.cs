using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The fold of backward-data (column gradients added back into the image) for horizontal stride 1,
/// with AVX-512 masked loads and stores. The KW depth rows of one kernel row land in the same image
/// row, shifted by one (dilated) column each: their sum is formed in registers and added into dx with
/// one read-modify-write, instead of KW overlapping ones that wait on each other's stores. Masks keep
/// every access inside the run and the image row (masked-off lanes never fault).
/// </summary>
internal static unsafe class ColumnFold512
{
    /// <summary>
    /// True when this fold runs: AVX-512 allowed and present, stride 1 along rows, and an output row's sums
    /// fit one 16-lane vector (small images, where the row-by-row fold is at its slowest; wider rows fold
    /// faster row by row, measured on VGG's 56x56).
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        SimdWidth.AllowsAvx512F(SimdWidth.Max) && g.StrideWidth == 1 && g.KernelWidth <= MaxKernelWidth
        && g.OutWidth + (g.KernelWidth - 1) * g.DilationWidth <= 16;

    // The load masks of one kernel row are kept in registers: up to 7 of them.
    private const int MaxKernelWidth = 7;

    /// <summary>
    /// For kernel rows kr = c*KH + kh in [first, first + count): dx[c, ihBase + kh*dh, iwBase + kw*dw + t] +=
    /// columns[((kr - first)*KW + kw) * ld + jj + t] for every run (jj, length, ihBase, iwBase) and t in
    /// [0, length); entries outside the image are dropped.
    /// </summary>
    // dx: one image (C, H, W), accumulated into; columns: (count*KW, ld), the depth rows of those kernel rows
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // from the first call (see GemmMicroKernels)
    public static void Fold(in Conv2dGeometry g, float* dx, int first, int count, ReadOnlySpan<int> runs, int ld, float* columns)
    {
        int h = g.InHeight, w = g.InWidth, kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth;
        int dilationH = g.DilationHeight, dilationW = g.DilationWidth;
        long plane = (long)h * w;
        // Kernel rows in an order whose consecutive writes are 16 floats or more apart: a load that overlaps
        // the 64 bytes of the store just before it waits for that store, even where the store's mask is off.
        int rowStep = Math.Min(kernelHeight, (16 + w * dilationH - 1) / (w * dilationH));
        var lanes = Vector512<int>.Indices;
        var zero = Vector512<float>.Zero;
        nint nextRow = ld - dilationW;   // from depth row kw's run to depth row kw+1's, one dilated column back
        for (int r = 0; r < runs.Length; r += 4)
        {
            int jj = runs[r], length = runs[r + 1], ihBase = runs[r + 2], iwBase = runs[r + 3];
            int span = length + (kernelWidth - 1) * dilationW;   // image columns iwBase .. iwBase+span-1 receive sums (span <= 16)
            // Lane l is image column iwBase + l; it takes column t = l - kw*dw of depth row kw.
            var column = Vector512.Create(iwBase) + lanes;
            var store = (Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, Vector512.Create(w))
                & Vector512.LessThan(lanes, Vector512.Create(span))).AsSingle();
            var m0 = LoadMask(0, length); var m1 = LoadMask(dilationW, length); var m2 = LoadMask(2 * dilationW, length);
            var m3 = LoadMask(3 * dilationW, length); var m4 = LoadMask(4 * dilationW, length);
            var m5 = LoadMask(5 * dilationW, length); var m6 = LoadMask(6 * dilationW, length);
            for (int c = first / kernelHeight; c <= (first + count - 1) / kernelHeight; c++)
                for (int phase = 0; phase < rowStep; phase++)
                    for (int kh = phase; kh < kernelHeight; kh += rowStep)
                    {
                        int kr = c * kernelHeight + kh, ih = ihBase + kh * dilationH;
                        if (kr < first || kr >= first + count || (uint)ih >= (uint)h) continue;
                        float* src = columns + (long)(kr - first) * kernelWidth * ld + jj;
                        var sum = Avx512F.MaskLoad(src, m0, zero);
                        if (kernelWidth > 1) sum += Avx512F.MaskLoad(src += nextRow, m1, zero);
                        if (kernelWidth > 2) sum += Avx512F.MaskLoad(src += nextRow, m2, zero);
                        if (kernelWidth > 3) sum += Avx512F.MaskLoad(src += nextRow, m3, zero);
                        if (kernelWidth > 4) sum += Avx512F.MaskLoad(src += nextRow, m4, zero);
                        if (kernelWidth > 5) sum += Avx512F.MaskLoad(src += nextRow, m5, zero);
                        if (kernelWidth > 6) sum += Avx512F.MaskLoad(src += nextRow, m6, zero);
                        float* dst = dx + c * plane + (long)ih * w + iwBase;
                        Avx512F.MaskStore(dst, store, Avx512F.MaskLoad(dst, store, zero) + sum);
                    }
        }
    }

    // Lanes l with 0 <= l - shift < length: where depth row kw (shift = kw*dw) adds its run's columns.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoadMask(int shift, int length)
    {
        var t = Vector512<int>.Indices - Vector512.Create(shift);
        return (Vector512.GreaterThanOrEqual(t, Vector512<int>.Zero) & Vector512.LessThan(t, Vector512.Create(length))).AsSingle();
    }
}
