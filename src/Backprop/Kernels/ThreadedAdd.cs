using System.Numerics.Tensors;

namespace Backprop.Kernels;

/// <summary>
/// y = a + b elementwise, split over <see cref="KernelThreads"/> in runs of at least <see cref="MinRun"/> elements
/// (below that one thread: the hand-over would cost more than it saves). Each element is one float addition, so the
/// bits do not depend on the split. The autograd engine sums a tensor's gradients with it: in a ResNet every block's
/// input gets two (the block and its shortcut), megabytes each, which one thread added at a fraction of the bandwidth.
/// </summary>
public static unsafe class ThreadedAdd
{
    private const int MinRun = 1 << 16;   // 256 KB of floats

    /// <summary>y = a + b; y may be a or b.</summary>
    // a, b, y: (n)
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        if (a.Length != y.Length || b.Length != y.Length)
            throw new ArgumentException($"ThreadedAdd.Add: inputs of {a.Length} and {b.Length} elements do not match the output's {y.Length}.");
        int n = y.Length, pieces = Math.Max(1, n / MinRun);
        if (pieces == 1 || KernelThreads.Count == 1)
        {
            TensorPrimitives.Add(a, b, y);
            return;
        }
        AddThreaded(a, b, y, Math.Min(pieces, KernelThreads.Count));   // the count read once: the units must tile [0, n)
    }

    // Apart from Add so that the lambda's captured state is allocated only when threads run (captured locals of Add
    // itself would put a closure on the heap at every call, the short single-threaded ones included).
    private static void AddThreaded(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int parts)
    {
        int n = y.Length;
        fixed (float* pa = a, pb = b, py = y)
        {
            float* ap = pa, bp = pb, yp = py;
            KernelThreads.For(parts, (start, end) =>
            {
                long from = (long)start * n / parts, to = (long)end * n / parts;
                int k = (int)(to - from);
                TensorPrimitives.Add(new ReadOnlySpan<float>(ap + from, k), new ReadOnlySpan<float>(bp + from, k), new Span<float>(yp + from, k));
            });
        }
    }
}
