using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The one switch for SIMD in the kernels: the widest vector (in bits) they may use, 512, 256, 128, or 0
/// for scalar code. Every kernel asks it, through <see cref="Max"/> or the <c>Allows…</c> checks, before
/// it uses a vector type or an instruction set, so a narrower width really runs narrower code.
/// It defaults to the widest width the runtime accelerates, which follows the runtime's own settings
/// (<c>DOTNET_EnableAVX512=0</c> on .NET 10, <c>DOTNET_EnableAVX512F=0</c> on .NET 8 and 9, or
/// <c>DOTNET_PreferredVectorBitWidth=256</c> give 256 on an AVX-512 CPU), lowered further by the
/// environment variable <c>BACKPROP_SIMD</c> (<c>scalar</c>, <c>128</c>, <c>256</c>
/// or <c>512</c>) for tests and benchmarks. Tests lower it at run time so that every path runs on one
/// machine. A width wider than the hardware accelerates still computes correct results (the runtime
/// emulates the vectors), only slower.
/// </summary>
public static class SimdWidth
{
    /// <summary>The environment variable that caps the default width: scalar, 128, 256 or 512.</summary>
    public const string EnvironmentVariable = "BACKPROP_SIMD";

    /// <summary>The widest width the runtime accelerates on this CPU, under the runtime's settings.</summary>
    public static int Hardware { get; } = Detect();

    private static int s_max = Math.Min(Hardware, Requested(Environment.GetEnvironmentVariable(EnvironmentVariable)));

    /// <summary>Max vector width in bits: 512, 256, 128 or 0 (scalar).</summary>
    public static int Max
    {
        get => s_max;
        set
        {
            if (value is not (512 or 256 or 128 or 0))
                throw new ArgumentOutOfRangeException(nameof(value), value, "SimdWidth.Max must be 512, 256, 128 or 0.");
            s_max = value;
        }
    }

    /// <summary>True when code running at <paramref name="width"/> may use <see cref="Vector512{T}"/>: the width allows 512 bits and the runtime accelerates them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Allows512(int width) => width >= 512 && Vector512.IsHardwareAccelerated;

    /// <summary>True when code running at <paramref name="width"/> may use <see cref="Vector256{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Allows256(int width) => width >= 256 && Vector256.IsHardwareAccelerated;

    /// <summary>True when code running at <paramref name="width"/> may use <see cref="Vector128{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Allows128(int width) => width >= 128 && Vector128.IsHardwareAccelerated;

    /// <summary>True when code running at <paramref name="width"/> may call 256-bit x86 AVX instructions directly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool AllowsAvx(int width) => width >= 256 && Avx.IsSupported;

    /// <summary>True when code running at <paramref name="width"/> may call AVX-512F instructions directly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool AllowsAvx512F(int width) => width >= 512 && Avx512F.IsSupported;

    /// <summary>The width a value of <see cref="EnvironmentVariable"/> asks for; unset or empty asks for no limit.</summary>
    /// <exception cref="InvalidOperationException">The value is not scalar, 0, 128, 256 or 512.</exception>
    internal static int Requested(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" => 512,
        "scalar" or "0" => 0,
        "128" => 128,
        "256" => 256,
        "512" => 512,
        _ => throw new InvalidOperationException(
            $"The environment variable {EnvironmentVariable} is '{value}'; it must be scalar, 128, 256 or 512 (or unset for the widest the CPU has)."),
    };

    private static int Detect()
    {
        if (Vector512.IsHardwareAccelerated) return 512;
        if (Vector256.IsHardwareAccelerated) return 256;
        if (Vector128.IsHardwareAccelerated) return 128;
        return 0;
    }
}
