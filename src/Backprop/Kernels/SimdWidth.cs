using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// The widest SIMD vector (in bits) the fast kernels may use: 512, 256, 128, or 0 for scalar code.
/// Defaults to the widest width the hardware accelerates. Tests lower it so that every path runs on
/// one machine. A width wider than the hardware accelerates still computes correct results (the
/// runtime emulates it), only slower.
/// </summary>
public static class SimdWidth
{
    private static int s_max = Detect();

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

    /// <summary>The widest width the hardware accelerates.</summary>
    public static int Hardware { get; } = Detect();

    private static int Detect()
    {
        if (Vector512.IsHardwareAccelerated) return 512;
        if (Vector256.IsHardwareAccelerated) return 256;
        if (Vector128.IsHardwareAccelerated) return 128;
        return 0;
    }
}
