namespace Backprop;

/// <summary>
/// Reuses the memory of op results from one step to the next, as Caffe's blobs and PyTorch's caching
/// allocator do: a steady training loop then allocates almost nothing, and each step writes into memory
/// the previous step left in the cache. Inside <see cref="Scope"/>, the results of ops on the calling
/// thread (activations, gradients, the ops' own scratch) take buffers from the pool. When the scope ends,
/// those tensors are released and their buffers serve the next scope; reading a released tensor throws
/// (so a tensor kept past its step is a clear error, never a silent wrong value). Call
/// <see cref="Tensor.Clone"/> on what must outlive the step; <see cref="Tensor.Item"/> and
/// <see cref="Tensor.ToArray"/> already copy. <see cref="Tensor.Release"/> gives one result's memory back before the
/// scope ends (as dropping the last reference does in PyTorch), and <see cref="Nn.Sequential"/> does so for the results
/// it passes from one layer to the next while no autograd graph is recorded: an inference pass then reuses a few buffers
/// while they are still in the cache, not one for each layer. <see cref="Tensor.Empty"/> also takes its memory from the pool;
/// tensors made by the other factories (Zeros, FromArray, Randn, ...),
/// clones, and the gradients accumulated into leaves (parameters' <see cref="Tensor.Grad"/>) never come
/// from the pool. A pool serves one scope at a time; scopes of different pools nest (the innermost serves).
/// </summary>
public sealed class TensorMemoryPool
{
    [ThreadStatic] private static TensorMemoryPool? t_current;

    private readonly Dictionary<int, Stack<float[]>> freeFloats = [];
    private readonly Dictionary<int, Stack<int[]>> freeInts = [];
    private readonly List<float[]?> lentFloats = [];   // null where a buffer came back early (GiveBackEarly)
    private readonly List<int[]?> lentInts = [];
    private ScopeLease? lease;
    private int ownerThread;

    /// <summary>Bytes of buffers the pool holds (lent and free).</summary>
    public long BytesHeld { get; private set; }

    /// <summary>Bytes of new buffers the pool has allocated since it was made; flat in a steady loop.</summary>
    public long BytesAllocated { get; private set; }

    /// <summary>Number of scopes ended.</summary>
    public long Steps { get; private set; }

    /// <summary>True while a scope of this pool is open.</summary>
    public bool InScope => lease is not null;

    /// <summary>
    /// Opens a scope on this thread: op results come from the pool until the returned object is disposed,
    /// which releases them. Throws if a scope of this pool is already open.
    /// </summary>
    public IDisposable Scope()
    {
        if (lease is not null)
            throw new InvalidOperationException("This TensorMemoryPool already has an open scope; end it before opening another (use a second pool to nest).");
        lease = new ScopeLease();
        ownerThread = Environment.CurrentManagedThreadId;
        return new ScopeHandle(this, t_current);
    }

    /// <summary>Drops the free buffers (outside a scope), giving their memory back to the GC.</summary>
    public void Trim()
    {
        if (lease is not null) throw new InvalidOperationException("Trim() cannot run while a scope is open.");
        freeFloats.Clear();
        freeInts.Clear();
        BytesHeld = 0;
    }

    /// <summary>The pool serving op results on this thread, or null.</summary>
    internal static TensorMemoryPool? Current => t_current;

    /// <summary>A float buffer of exactly <paramref name="length"/> elements from the current pool, or from the GC when none; not cleared.</summary>
    internal static float[] RentFloats(int length) =>
        t_current is { } pool ? pool.Rent(length, pool.freeFloats, pool.lentFloats) : GC.AllocateUninitializedArray<float>(length);

    /// <summary>An int buffer of exactly <paramref name="length"/> elements from the current pool, or from the GC when none; not cleared.</summary>
    internal static int[] RentInts(int length) =>
        t_current is { } pool ? pool.Rent(length, pool.freeInts, pool.lentInts) : GC.AllocateUninitializedArray<int>(length);

    /// <summary>
    /// While a backward pass runs: its largest gradient's length, else 0. A CNN's backward meets its small gradients (deep
    /// layers) first and its large ones (early layers) last; buffers sized exactly for the small ones would sit idle, and
    /// new ones be allocated, when the large ones come. So a tensor asking for at least a quarter of this length gets a
    /// buffer of this length (using its start), and later gradients of any size up to it reuse the buffer.
    /// </summary>
    internal int BackwardGradientLength { get; set; }

    /// <summary>
    /// A tensor's storage, at least <paramref name="length"/> elements, from this pool's open scope: exactly that long
    /// except during a backward pass, where it may be <see cref="BackwardGradientLength"/> long. Not cleared.
    /// </summary>
    internal Lease LendStorage(int length)
    {
        int sized = BackwardGradientLength;
        if (sized == 0 || length > sized || (long)length * 4 < sized
            || (freeFloats.TryGetValue(length, out var exact) && exact.Count > 0))
            sized = length;
        var buffer = Rent(sized, freeFloats, lentFloats);
        return new Lease(this, buffer, lentFloats.Count - 1);
    }

    /// <summary>How many float buffers the open scope has lent so far: a mark for <see cref="GiveBackEarly"/>.</summary>
    internal int LentFloatCount => lentFloats.Count;

    /// <summary>
    /// Takes back, before the scope ends, a float buffer lent after <paramref name="mark"/> (a
    /// <see cref="LentFloatCount"/> read earlier) so that later ops of the same scope reuse it, as PyTorch's
    /// allocator reuses a gradient's memory once backward has consumed it. The caller guarantees that no
    /// tensor using the buffer is read again. Returns false, taking nothing, for a buffer lent before the mark
    /// or not by this scope.
    /// </summary>
    internal bool GiveBackEarly(float[] buffer, int mark)
    {
        int index = lentFloats.LastIndexOf(buffer);
        if (index < mark) return false;
        lentFloats[index] = null;
        Push(buffer);
        return true;
    }

    private void Push(float[] buffer)
    {
        if (!freeFloats.TryGetValue(buffer.Length, out var stack)) freeFloats[buffer.Length] = stack = new Stack<float[]>();
        stack.Push(buffer);
    }

    /// <summary>Whether <paramref name="buffer"/> is lent by the open scope, and was lent after <paramref name="mark"/>.</summary>
    internal bool LentSince(float[] buffer, int mark) => lentFloats.LastIndexOf(buffer) is int index && index >= mark;

    private T[] Rent<T>(int length, Dictionary<int, Stack<T[]>> free, List<T[]?> lent)
    {
        if (Environment.CurrentManagedThreadId != ownerThread)
            throw new InvalidOperationException("A TensorMemoryPool scope serves the thread that opened it only.");
        T[] buffer;
        if (free.TryGetValue(length, out var stack) && stack.Count > 0) buffer = stack.Pop();
        else
        {
            buffer = GC.AllocateUninitializedArray<T>(length);
            long bytes = (long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            BytesAllocated += bytes;
            BytesHeld += bytes;
        }
        lent.Add(buffer);
        return buffer;
    }

    private void EndScope(TensorMemoryPool? previous)
    {
        if (Environment.CurrentManagedThreadId != ownerThread)
            throw new InvalidOperationException("A TensorMemoryPool scope must end on the thread that opened it.");
        if (t_current != this)
            throw new InvalidOperationException("TensorMemoryPool scopes must end in the reverse order they were opened.");
        lease!.Released = true;
        lease = null;
        BackwardGradientLength = 0;
        Return(lentFloats, freeFloats);
        Return(lentInts, freeInts);
        t_current = previous;
        Steps++;
    }

    private static void Return<T>(List<T[]?> lent, Dictionary<int, Stack<T[]>> free)
    {
        // Pushed in reverse so the next step, asking for the same sizes in the same order, gets the same buffers.
        for (int i = lent.Count - 1; i >= 0; i--)
        {
            if (lent[i] is not { } buffer) continue;
            if (!free.TryGetValue(buffer.Length, out var stack)) free[buffer.Length] = stack = new Stack<T[]>();
            stack.Push(buffer);
        }
        lent.Clear();
    }

    /// <summary>Ends with its scope; every <see cref="Lease"/> of the scope reads it.</summary>
    private sealed class ScopeLease
    {
        public bool Released;
    }

    /// <summary>
    /// One lent tensor storage, shared by the tensor and its views: released when its scope ends, or before that by
    /// <see cref="GiveBack"/>.
    /// </summary>
    internal sealed class Lease
    {
        private readonly TensorMemoryPool pool;
        private readonly ScopeLease scope;
        private readonly int slot;   // the buffer's place in the scope's lent list

        public Lease(TensorMemoryPool pool, float[] buffer, int slot)
        {
            this.pool = pool;
            scope = pool.lease!;   // the open scope that lent the buffer
            Buffer = buffer;
            this.slot = slot;
        }

        public float[] Buffer { get; }

        /// <summary>True when the buffer came back early (<see cref="GiveBack"/>) rather than with its scope.</summary>
        public bool GivenBack { get; private set; }

        public bool Released => GivenBack || scope.Released;

        /// <summary>
        /// Gives the buffer back to the open scope now, so that the scope's later results reuse it. Does nothing off the
        /// scope's thread (the pool is not thread-safe; the buffer then comes back with the scope), nor where a backward
        /// pass already gave the buffer back (<see cref="GiveBackEarly"/>): by its slot, never a later lending of it.
        /// </summary>
        public void GiveBack()
        {
            if (Released || Environment.CurrentManagedThreadId != pool.ownerThread || !ReferenceEquals(pool.lentFloats[slot], Buffer)) return;
            pool.lentFloats[slot] = null;
            pool.Push(Buffer);
            GivenBack = true;
        }
    }

    private sealed class ScopeHandle : IDisposable
    {
        private readonly TensorMemoryPool pool;
        private readonly TensorMemoryPool? previous;
        private bool disposed;

        public ScopeHandle(TensorMemoryPool pool, TensorMemoryPool? previous)
        {
            this.pool = pool;
            this.previous = previous;
            t_current = pool;
        }

        public void Dispose()
        {
            if (disposed) return;
            pool.EndScope(previous);
            disposed = true;
        }
    }
}
