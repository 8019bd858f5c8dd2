using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Kernels;

/// <summary>
/// A kept copy of a convolution's weights compared with the live ones slice by slice, by the kernel threads as part of
/// their own share of a call (<see cref="WinogradWeightCache"/>, <see cref="DirectWeightCache"/>): a slice that differs in
/// any bit (float equality would take -0 for +0 and one NaN for another) marks the call's output as made from stale
/// weights. With no copy (a kept form made in this call) every slice passes.
/// </summary>
internal unsafe struct WeightCheck(float* live, float* copy, int length)
{
    private int differs;

    /// <summary>Whether a compared slice differed.</summary>
    public readonly bool Differs => Volatile.Read(ref Unsafe.AsRef(in differs)) != 0;

    /// <summary>Compares elements [start, end) (clipped to the weights).</summary>
    public void Compare(long start, long end)
    {
        if (copy is null) return;
        int a = (int)Math.Min(start, length), b = (int)Math.Min(end, length);
        if (!Same(new ReadOnlySpan<float>(live + a, b - a), new ReadOnlySpan<float>(copy + a, b - a))) Volatile.Write(ref differs, 1);
    }

    /// <summary>Bit for bit, vectorised as int spans are.</summary>
    public static bool Same(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        MemoryMarshal.Cast<float, int>(a).SequenceEqual(MemoryMarshal.Cast<float, int>(b));
}
