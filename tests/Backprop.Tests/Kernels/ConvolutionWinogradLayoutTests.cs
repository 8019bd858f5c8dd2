using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// <see cref="ConvolutionWinogradLayout.CopyRows"/> (NCHW rows into the 16-channel-blocked padded layout) against a plain
/// loop, bit for bit, at every SIMD width the hardware has (AVX-512's 16x16 and 16x8 transposes, AVX2's 8x8, one float
/// at a time), for row widths that use each transpose and the scalar tail, partial channel blocks and partial row ranges.
/// </summary>
[Collection("KernelSettings")]
public class ConvolutionWinogradLayoutTests
{
    private static readonly int[] Widths = [.. new[] { 512, 256, 128 }.Where(w => w <= SimdWidth.Hardware)];

    [Theory]
    [InlineData(16, 32, 32, 1, 3)]
    [InlineData(32, 16, 16, 1, 3)]
    [InlineData(64, 8, 8, 1, 3)]
    [InlineData(16, 6, 24, 1, 3)]
    [InlineData(16, 5, 20, 0, 3)]
    [InlineData(19, 7, 13, 2, 3)]
    [InlineData(48, 3, 47, 1, 3)]
    [InlineData(5, 4, 9, 1, 3)]
    [InlineData(32, 16, 16, 2, 5)]
    [InlineData(16, 9, 40, 2, 5)]
    public unsafe void CopyRowsMatchesTheReference(int c, int h, int w, int pad, int kernel)
    {
        var plan = new WinogradPlan(new Conv2dGeometry(1, c, h, w, 16, kernel, kernel, 1, 1, pad, pad, 1, 1, 1));
        float[] image = KernelTestUtil.Random(c * h * w, 7);
        int length = plan.Cp * plan.Hp * plan.Wp;
        foreach ((int r0, int r1) in new[] { (0, plan.Hp), (plan.Step, Math.Min(plan.Hp, plan.Step + 6)), (plan.Hp - 3, plan.Hp) })
        {
            if (r0 < 0 || r0 >= r1) continue;
            float[] expected = Enumerable.Repeat(float.NaN, length).ToArray();
            for (int cb = 0; cb < plan.Cp / 16; cb++)
                for (int r = r0; r < r1; r++)
                    for (int col = 0; col < plan.Wp; col++)
                        for (int l = 0; l < 16; l++)
                        {
                            int ch = cb * 16 + l, y = r - plan.PadH, x = col - plan.PadW;
                            bool inside = ch < c && y >= 0 && y < h && x >= 0 && x < w;
                            expected[((cb * plan.Hp + r) * plan.Wp + col) * 16 + l] = inside ? image[(ch * h + y) * w + x] : 0f;
                        }
            foreach (int width in Widths)
            {
                float[] actual = Enumerable.Repeat(float.NaN, length).ToArray();
                fixed (float* pi = image, pa = actual) ConvolutionWinogradLayout.CopyRows(plan, width, pi, pa, r0, r1);
                KernelTestUtil.AssertBitIdentical(expected, actual, $"C {c}, {h}x{w}, pad {pad}, rows [{r0}, {r1}), width {width}");
            }
        }
    }
}
