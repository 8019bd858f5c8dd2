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
        // CI's second kernel run turns AVX-512 off; then the kernels must stay at 256 bits or less. .NET 8 and 9 read
        // DOTNET_EnableAVX512F, .NET 10 ignores it and reads DOTNET_EnableAVX512: a run that sets only the first is not an AVX2 run.
        int expected = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;
        Assert.Equal(expected, SimdWidth.Hardware);
        bool off = Environment.GetEnvironmentVariable("DOTNET_EnableAVX512F") == "0" || Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0";
        if (off)
            Assert.True(SimdWidth.Hardware <= 256 && !Vector512.IsHardwareAccelerated,
                $"AVX-512 was turned off in the environment, yet SimdWidth.Hardware is {SimdWidth.Hardware}: on .NET 10 set DOTNET_EnableAVX512=0 (DOTNET_EnableAVX512F is ignored).");
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
