using System.Runtime.InteropServices;

namespace Backprop.Kernels;

/// <summary>
/// Large float scratch for the Winograd convolution kernels (transformed weights, per-thread tile buffers, partial
/// sums), in native memory shared by all threads. <see cref="System.Buffers.ArrayPool{T}.Shared"/> keeps an array of
/// each power-of-two size per thread, so VGG's layers, asking for many sizes, left about 80 MB there. Here the free
/// buffers are few and exactly sized: a request takes the smallest free buffer that fits; when none fits, a new one
/// replaces the largest free one, which is freed at once (native memory goes back to the system; a dropped managed
/// array would stay resident until a full GC). So the arena holds at most as many buffers as were in use at once,
/// each about as large as the largest request it served, and a steady loop allocates nothing after its first pass.
/// </summary>
internal sealed unsafe class ScratchArena
{
    /// <summary>The arena the kernels use.</summary>
    public static ScratchArena Shared { get; } = new();

    private const long Granule = 1 << 12;   // lengths rounded up to 16 KB, so nearly equal requests share a buffer
    private const nuint Alignment = 64;     // a cache line: the kernels align their vectors themselves, this only helps

    // Free buffers with the managed thread that gave each back: of equally sized fits, a thread gets its own buffer back,
    // still in its core's cache (2 threads taking each other's Winograd slab buffers cost 5-11% CPU time there).
    private readonly List<(Scratch Buffer, int Owner)> free = [];
    private readonly object gate = new();
    private long bytesHeld;

    /// <summary>Bytes of buffers the arena holds (in use or free).</summary>
    public long BytesHeld => Interlocked.Read(ref bytesHeld);

    /// <summary>A buffer of at least <paramref name="length"/> floats, not cleared; give it back with <see cref="Return"/>.</summary>
    public Scratch Rent(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Scratch dropped = default;
        lock (gate)
        {
            int best = -1, largest = -1, self = Environment.CurrentManagedThreadId;
            for (int i = 0; i < free.Count; i++)
            {
                long size = free[i].Buffer.Length;
                if (size >= length && (best < 0 || size < free[best].Buffer.Length
                    || (size == free[best].Buffer.Length && free[i].Owner == self))) best = i;
                if (largest < 0 || size > free[largest].Buffer.Length) largest = i;
            }
            if (best >= 0)
            {
                var buffer = free[best].Buffer;
                free.RemoveAt(best);
                return buffer;
            }
            if (largest >= 0)
            {
                dropped = free[largest].Buffer;
                free.RemoveAt(largest);
            }
        }
        if (dropped.Pointer is not null)
        {
            NativeMemory.AlignedFree(dropped.Pointer);
            Interlocked.Add(ref bytesHeld, -4 * dropped.Length);
        }
        long rounded = Math.Max(Granule, (length + Granule - 1) / Granule * Granule);
        var fresh = new Scratch((float*)NativeMemory.AlignedAlloc((nuint)rounded * sizeof(float), Alignment), rounded);
        Interlocked.Add(ref bytesHeld, 4 * rounded);
        return fresh;
    }

    /// <summary>Gives back a buffer from <see cref="Rent"/>; the caller no longer uses it.</summary>
    public void Return(Scratch buffer)
    {
        if (buffer.Pointer is null) return;
        int self = Environment.CurrentManagedThreadId;
        lock (gate) free.Add((buffer, self));
    }

    /// <summary>Frees the free buffers (tests; a process that has finished training).</summary>
    public void Trim()
    {
        lock (gate)
        {
            foreach (var (buffer, _) in free)
            {
                NativeMemory.AlignedFree(buffer.Pointer);
                Interlocked.Add(ref bytesHeld, -4 * buffer.Length);
            }
            free.Clear();
        }
    }
}

/// <summary>A native float buffer from <see cref="ScratchArena"/>: its start and its length in floats.</summary>
internal readonly unsafe struct Scratch(float* pointer, long length)
{
    /// <summary>The first float.</summary>
    public float* Pointer { get; } = pointer;

    /// <summary>Floats in the buffer (at least the length asked for).</summary>
    public long Length { get; } = length;
}
