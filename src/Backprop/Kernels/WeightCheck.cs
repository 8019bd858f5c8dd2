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

    /// <summary>
    /// Whether any of about 32 weights spread over the array (the last included) differs from the copy, in any bit: a
    /// whole new set of weights (an optimizer step, a moving average of another net's) is found on the calling thread
    /// before the products run once in vain. A match proves nothing; the threads' full compare stays.
    /// </summary>
    public static bool SampleDiffers(ReadOnlySpan<float> live, ReadOnlySpan<float> copy)
    {
        int n = live.Length;
        if (n != copy.Length) return true;
        if (n == 0) return false;
        for (int i = 0, step = Math.Max(1, n / 32); i < n; i += step)
            if (BitConverter.SingleToInt32Bits(live[i]) != BitConverter.SingleToInt32Bits(copy[i])) return true;
        return BitConverter.SingleToInt32Bits(live[n - 1]) != BitConverter.SingleToInt32Bits(copy[n - 1]);
    }

    /// <summary>Bit for bit, vectorised as int spans are.</summary>
    public static bool Same(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        MemoryMarshal.Cast<float, int>(a).SequenceEqual(MemoryMarshal.Cast<float, int>(b));

    /// <summary>Bit for bit (a folded BatchNorm's scales, <see cref="BatchNormFold"/>).</summary>
    public static bool Same(ReadOnlySpan<double> a, ReadOnlySpan<double> b) =>
        MemoryMarshal.Cast<double, long>(a).SequenceEqual(MemoryMarshal.Cast<double, long>(b));
}
