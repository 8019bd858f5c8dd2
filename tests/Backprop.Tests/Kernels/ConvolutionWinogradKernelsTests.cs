using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The Winograd products (<see cref="ConvolutionWinogradKernels.Products"/>): a block of at most 4 tiles on AVX-512 runs the
/// 4-row kernels (64 and 16 columns), and each of its outputs has the bits of the 12-row kernels' and of the in-order chain
/// of fused multiply-adds over the input channels.
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionWinogradKernelsTests
{
    [Theory]
    [InlineData(64, 64)]
    [InlineData(32, 80)]   // one 64-column pass, then one 16-column pass
    [InlineData(16, 32)]   // 16-column passes only
    public unsafe void FourRowBlocksHaveTheBitsOfTheTwelveRowKernels(int channels, int outChannels)
    {
        if (SimdWidth.Hardware < 512) return;   // the 4-row kernels are AVX-512's
        var plan = new WinogradPlan(new Conv2dGeometry(1, channels, 8, 8, outChannels, 3, 3, 1, 1, 1, 1, 1, 1, 1));
        int blockTiles = 12, positions = ConvolutionWinograd.Positions;
        float[] v = KernelTestUtil.Random(positions * blockTiles * plan.Cp, 1);
        float[] u = KernelTestUtil.Random(positions * plan.Cp * plan.Kp, 2);
        float[] twelve = new float[positions * blockTiles * plan.Kp], four = new float[twelve.Length];
        fixed (float* pv = v, pu = u, p12 = twelve, p4 = four)
        {
            ConvolutionWinogradKernels.Products(512, plan, blockTiles, 12, pv, pu, p12);
            ConvolutionWinogradKernels.Products(512, plan, blockTiles, 4, pv, pu, p4);
        }
        for (int pos = 0; pos < positions; pos++)
            for (int row = 0; row < 4; row++)
                for (int k = 0; k < plan.Kp; k++)
                {
                    long at = ((long)pos * blockTiles + row) * plan.Kp + k;
                    float chain = 0;
                    for (int c = 0; c < plan.Cp; c++)
                        chain = MathF.FusedMultiplyAdd(v[((long)pos * blockTiles + row) * plan.Cp + c], u[(((long)pos * (plan.Kp / 16) + k / 16) * plan.Cp + c) * 16 + k % 16], chain);
                    Assert.Equal(BitConverter.SingleToInt32Bits(twelve[at]), BitConverter.SingleToInt32Bits(four[at]));
                    Assert.Equal(BitConverter.SingleToInt32Bits(chain), BitConverter.SingleToInt32Bits(four[at]));
                }
    }
}
