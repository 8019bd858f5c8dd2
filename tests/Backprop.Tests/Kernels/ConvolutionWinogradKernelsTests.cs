using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The Winograd products (<see cref="ConvolutionWinogradKernels.Products"/>): on AVX-512 the rows past whole 12-row
/// micro-tiles run the 4-row kernels (64, 32 and 16 columns), and each output has the bits of the 12-row kernels' and of
/// the in-order chain of fused multiply-adds over the input channels.
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionWinogradKernelsTests
{
    [Theory]
    [InlineData(64, 64, 4)]
    [InlineData(32, 80, 4)]    // a 64-column pass, then a 16-column one
    [InlineData(16, 32, 8)]    // 32-column passes
    [InlineData(16, 112, 16)]  // 12 rows whole, then 4 rows: 64, 32 and 16 columns
    public unsafe void FourRowBlocksHaveTheBitsOfTheTwelveRowKernels(int channels, int outChannels, int rows)
    {
        if (SimdWidth.Hardware < 512) return;   // the 4-row kernels are AVX-512's
        var plan = new WinogradPlan(new Conv2dGeometry(1, channels, 8, 8, outChannels, 3, 3, 1, 1, 1, 1, 1, 1, 1));
        int blockTiles = 24, positions = ConvolutionWinograd.Positions;
        long vStride = WinogradPlan.PositionStride(blockTiles, plan.Cp), mStride = WinogradPlan.PositionStride(blockTiles, plan.Kp);
        float[] v = KernelTestUtil.Random((int)(positions * vStride), 1);
        float[] u = KernelTestUtil.Random(positions * plan.Cp * plan.Kp, 2);
        float[] twelve = new float[positions * mStride], four = new float[twelve.Length];
        fixed (float* pv = v, pu = u, p12 = twelve, p4 = four)
        {
            ConvolutionWinogradKernels.Products(512, plan, blockTiles, 24, pv, pu, p12);
            ConvolutionWinogradKernels.Products(512, plan, blockTiles, rows, pv, pu, p4);
        }
        for (int pos = 0; pos < positions; pos++)
            for (int row = 0; row < rows; row++)
                for (int k = 0; k < plan.Kp; k++)
                {
                    long at = pos * mStride + (long)row * plan.Kp + k;
                    float chain = 0;
                    for (int c = 0; c < plan.Cp; c++)
                        chain = MathF.FusedMultiplyAdd(v[pos * vStride + (long)row * plan.Cp + c], u[(((long)pos * (plan.Kp / 16) + k / 16) * plan.Cp + c) * 16 + k % 16], chain);
                    Assert.Equal(BitConverter.SingleToInt32Bits(twelve[at]), BitConverter.SingleToInt32Bits(four[at]));
                    Assert.Equal(BitConverter.SingleToInt32Bits(chain), BitConverter.SingleToInt32Bits(four[at]));
                }
    }
}
