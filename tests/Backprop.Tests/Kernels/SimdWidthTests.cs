using System.Runtime.Intrinsics;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>SimdWidth is the one SIMD switch: it follows the runtime's settings and BACKPROP_SIMD.</summary>
public class SimdWidthTests
{
    [Theory]
    [InlineData(null, 512)]
    [InlineData("", 512)]
    [InlineData("scalar", 0)]
    [InlineData(" Scalar ", 0)]
    [InlineData("0", 0)]
    [InlineData("128", 128)]
    [InlineData("256", 256)]
    [InlineData("512", 512)]
    public void TheEnvironmentVariableNamesAWidth(string? value, int expected) => Assert.Equal(expected, SimdWidth.Requested(value));

    [Theory]
    [InlineData("64")]
    [InlineData("avx2")]
    [InlineData("1024")]
    public void AnUnknownWidthIsRejectedWithTheVariableNamed(string value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => SimdWidth.Requested(value));
        Assert.Contains("BACKPROP_SIMD", e.Message);
        Assert.Contains(value, e.Message);
    }

    [Fact]
    public void HardwareFollowsTheRuntimesVectorSettings()
    {
        // DOTNET_EnableAVX512F=0 (CI's second kernel run) turns Vector512 acceleration off: the kernels must then stay at 256 bits or less.
        int expected = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;
        Assert.Equal(expected, SimdWidth.Hardware);
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512F") == "0")
        {
            Assert.False(Vector512.IsHardwareAccelerated);
            Assert.True(SimdWidth.Hardware <= 256, $"SimdWidth.Hardware is {SimdWidth.Hardware} with DOTNET_EnableAVX512F=0");
        }
    }

    [Fact]
    public void TheNarrowerChecksAllowOnlyWhatTheWidthAllows()
    {
        Assert.False(SimdWidth.Allows512(256));
        Assert.False(SimdWidth.AllowsAvx512F(256));
        Assert.False(SimdWidth.Allows256(128));
        Assert.False(SimdWidth.AllowsAvx(128));
        Assert.False(SimdWidth.Allows128(0));
        Assert.Equal(Vector256.IsHardwareAccelerated, SimdWidth.Allows256(512));
    }
}
