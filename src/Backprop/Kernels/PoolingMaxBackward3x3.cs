using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// Max pooling backward for 3x3 windows at stride 2 without padding (cifar10's pool1, AlexNet-style overlapping
/// pools), AVX-512: instead of clearing dx and scattering each dy onto its argmax one at a time, each 16-column run of
/// a dx row gathers what reaches it. Input (r, c) lies in the windows of output rows r/2 - 1 (r even) and r/2, and
/// of output columns c/2 - 1 (c even) and c/2; their dy values are permuted onto the 16 input columns and kept where
/// their argmax is (r, c). They are added in output order from +0, so each dx is the reference's sum bit for bit
/// (a masked +0 changes no sum that started at +0). A plane whose argmax values do not all lie in their own windows
/// (every output must be matched exactly once) is left to the caller's scalar loop, which reports bad indices.
/// </summary>
internal static unsafe class PoolingMaxBackward3x3
{
    /// <summary>True when <see cref="Plane"/> runs: 3x3, stride 2, no padding, input rows a multiple of 16, AVX-512.</summary>
    public static bool Applies(in Pool2dGeometry g, int width) =>
        SimdWidth.Allows512(width) && Avx512F.IsSupported && g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 2
        && g.StrideWidth == 2 && g.PadHeight == 0 && g.PadWidth == 0 && g.InWidth % 16 == 0;

    /// <summary>Floats (and ints) of scratch <see cref="Plane"/> needs: each dy and argmax row behind one leading slot.</summary>
    public static int ScratchLength(in Pool2dGeometry g) => g.OutHeight * RowStride(g) + 16;

    // One output row in the scratch: a leading slot (output column -1), the row, and room for a 16-wide load past it.
    private static int RowStride(in Pool2dGeometry g) => Math.Max(g.OutWidth + 1, g.InWidth / 2 + 1) + 16;

    /// <summary>
    /// dx's plane from dy's and argmax's (one plane each); false (dx partly written) when some argmax lies outside its
    /// window, for the caller to redo the plane with the scalar loop.
    /// </summary>
    // dy, argmax: (OH, OW); dx: (H, W) overwritten; dyRows, argRows: ScratchLength each
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Plane(in Pool2dGeometry g, float* dy, int* argmax, float* dx, float* dyRows, int* argRows)
    {
        int oh = g.OutHeight, ow = g.OutWidth, h = g.InHeight, w = g.InWidth, stride = RowStride(g);
        // Scratch rows: slot 0 is output column -1 (dy 0, argmax -1: never matches), then the row, then argmax -1.
        for (int i = 0; i < oh; i++)
        {
            float* d = dyRows + (long)i * stride;
            int* a = argRows + (long)i * stride;
            d[0] = 0f;
            a[0] = -1;
            new Span<float>(dy + (long)i * ow, ow).CopyTo(new Span<float>(d + 1, ow));
            new Span<int>(argmax + (long)i * ow, ow).CopyTo(new Span<int>(a + 1, ow));
            new Span<int>(a + 1 + ow, stride - 1 - ow).Fill(-1);
        }
        Vector512<int> lane = Vector512<int>.Indices;
        Vector512<int> half = lane >>> 1;                       // column c0 + lane reads output c0/2 + lane/2 - 1 at slot c0/2 + lane/2
        Vector512<int> next = half + Vector512<int>.One;        // and output c0/2 + lane/2 at the slot after
        Vector512<int> even = Vector512.Equals(lane & Vector512<int>.One, Vector512<int>.Zero);   // only even columns lie in two windows
        long matched = 0;
        for (int r = 0; r < h; r++)
        {
            int iLast = Math.Min(r >> 1, oh - 1), iFirst = (r & 1) == 0 ? Math.Max((r >> 1) - 1, 0) : r >> 1;
            for (int c0 = 0; c0 < w; c0 += 16)
            {
                Vector512<int> target = lane + Vector512.Create(r * w + c0);
                Vector512<float> sum = Vector512<float>.Zero;
                for (int i = iFirst; i <= iLast; i++)
                {
                    float* d = dyRows + (long)i * stride + c0 / 2;
                    int* a = argRows + (long)i * stride + c0 / 2;
                    Vector512<float> dys = Vector512.Load(d);
                    Vector512<int> args = Vector512.Load(a);
                    Vector512<int> left = Vector512.Equals(Avx512F.PermuteVar16x32(args, half), target) & even;
                    Vector512<int> right = Vector512.Equals(Avx512F.PermuteVar16x32(args, next), target);
                    sum += Avx512F.PermuteVar16x32(dys, half) & left.AsSingle();
                    sum += Avx512F.PermuteVar16x32(dys, next) & right.AsSingle();
                    matched += BitOperations.PopCount(left.ExtractMostSignificantBits()) + BitOperations.PopCount(right.ExtractMostSignificantBits());
                }
                sum.Store(dx + (long)r * w + c0);
            }
        }
        return matched == (long)oh * ow;
    }
}
