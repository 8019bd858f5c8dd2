using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The Winograd weight gradient's 36 products (M[pos] += W[pos]^T V[pos]) at each SIMD width against a plain loop that
/// adds the tiles in order with one fused multiply-add each: the kernels promise that chain for every element, so the
/// bits must match exactly. Output-channel counts 16..96 cover every split of the AVX2 rows into 6- and 4-row tiles.
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionWinogradWeightGradientKernelsTests
{
    private static readonly int[] Widths = [.. new[] { 512, 256 }.Where(w => w <= SimdWidth.Hardware)];

    [Theory]
    [InlineData(16, 16, 7)]
    [InlineData(16, 32, 1)]
    [InlineData(32, 16, 9)]
    [InlineData(48, 48, 5)]
    [InlineData(32, 64, 12)]
    [InlineData(80, 16, 3)]
    [InlineData(16, 96, 4)]
    public unsafe void ProductsAreTheInOrderChainOfFusedMultiplyAdds(int cp, int kp, int count)
    {
        const int P = ConvolutionWinograd.Positions;
        int blockTiles = count + 2;   // the block holds more tiles than it sums
        long wStride = WinogradPlan.PositionStride(blockTiles, kp), vStride = WinogradPlan.PositionStride(blockTiles, cp);
        float[] w = KernelTestUtil.Random((int)(P * wStride), 1), v = KernelTestUtil.Random((int)(P * vStride), 2);
        float[] start = KernelTestUtil.Random(P * kp * cp, 3);
        float[] expected = (float[])start.Clone();
        for (int pos = 0; pos < P; pos++)
            for (int k = 0; k < kp; k++)
                for (int c = 0; c < cp; c++)
                {
                    ref float e = ref expected[(pos * kp + k) * cp + c];
                    for (int t = 0; t < count; t++)
                        e = MathF.FusedMultiplyAdd(w[pos * wStride + t * kp + k], v[pos * vStride + t * cp + c], e);
                }
        foreach (int width in Widths)
        {
            float[] m = (float[])start.Clone();
            fixed (float* pw = w, pv = v, pm = m)
                ConvolutionWinogradWeightGradientKernels.Products(width, P, cp, kp, blockTiles, count, pw, pv, pm);
            KernelTestUtil.AssertBitIdentical(expected, m, $"Cp {cp}, Kp {kp}, {count} tiles, width {width}");
        }
    }
}
