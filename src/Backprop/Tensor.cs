using Backprop.Autograd;

namespace Backprop;

/// <summary>
/// An n-dimensional array of float32 values in contiguous row-major storage, with reverse-mode
/// autograd (define-by-run, as in PyTorch). Memory belongs to the GC: tensors are never disposed.
/// Reshapes and first-axis slices are views that share storage; every other op allocates its result.
/// </summary>
public partial class Tensor
{
    private readonly float[] storage;
    private readonly TensorMemoryPool.Lease? lease;   // set when the storage is lent by a TensorMemoryPool scope
    internal readonly int Offset;
    private bool requiresGrad;
    private AccumulateGrad? accumulator;

    internal Tensor(float[] storage, int offset, Shape shape) : this(storage, offset, shape, null) { }

    private Tensor(float[] storage, int offset, Shape shape, TensorMemoryPool.Lease? lease)
    {
        if (offset < 0 || offset + shape.Length > storage.Length)
            throw new ArgumentException($"A tensor of shape {shape} does not fit storage of {storage.Length} elements at offset {offset}.");
        this.storage = storage;
        this.lease = lease;
        Offset = offset;
        Shape = shape;
    }

    /// <summary>A zeroed tensor from the GC (factories, clones): never lent by a <see cref="TensorMemoryPool"/>.</summary>
    internal Tensor(Shape shape) : this(new float[shape.Length], 0, shape) { }

    /// <summary>
    /// An op's result whose storage is not cleared, for kernels that overwrite every element (large
    /// activations and gradients skip the zeroing pass). Lent by the current <see cref="TensorMemoryPool"/>, if any.
    /// </summary>
    internal static Tensor Uninitialized(Shape shape)
    {
        var pool = TensorMemoryPool.Current;
        return pool is null
            ? new(GC.AllocateUninitializedArray<float>(shape.Length), 0, shape)
            : Lent(pool.LendStorage(shape.Length), shape);
    }

    private static Tensor Lent(TensorMemoryPool.Lease lease, Shape shape) => new(lease.Buffer, 0, shape, lease);

    /// <summary>An op's zeroed result, lent by the current <see cref="TensorMemoryPool"/> if any.</summary>
    internal static Tensor Result(Shape shape)
    {
        if (TensorMemoryPool.Current is null) return new Tensor(shape);
        var t = Uninitialized(shape);
        t.storage.AsSpan(0, shape.Length).Clear();
        return t;
    }

    /// <summary>A view of this tensor's storage (released with it when the storage is lent).</summary>
    internal Tensor ViewOf(int offset, Shape shape) => new(Storage, offset, shape, lease);

    /// <summary>
    /// The storage. Throws when it was lent by a <see cref="TensorMemoryPool"/> scope that has ended: the
    /// memory now belongs to a later step.
    /// </summary>
    internal float[] Storage => lease is null || !lease.Released ? storage : throw Released();

    /// <summary>True when the storage was lent by a <see cref="TensorMemoryPool"/> scope (ended or not).</summary>
    internal bool IsLent => lease is not null;

    /// <summary>
    /// True when the storage was lent by a <see cref="TensorMemoryPool"/> scope that has ended, or given back before that
    /// (<see cref="Release"/>).
    /// </summary>
    internal bool IsReleased => lease is { Released: true };

    /// <summary>Whether this tensor and <paramref name="other"/> read the same storage (one is a view of the other, or both of a third).</summary>
    internal bool SharesStorageWith(Tensor other) => ReferenceEquals(storage, other.storage);

    /// <summary>
    /// <see cref="Release"/>, unless <paramref name="first"/> or <paramref name="second"/>, tensors still in use (a chain's
    /// input, the next result, which may be this tensor passed on or a view of it), reads the same storage.
    /// </summary>
    internal void ReleaseUnlessShared(Tensor first, Tensor second)
    {
        if (!SharesStorageWith(first) && !SharesStorageWith(second)) Release();
    }

    /// <summary>
    /// Gives this tensor's memory back to the <see cref="TensorMemoryPool"/> scope that lent it, now rather than when the
    /// scope ends, so that the scope's next results reuse it while it is still in the cache: what dropping the last
    /// reference to an intermediate does in PyTorch. Reading this tensor, or any view of it, afterwards throws. Does
    /// nothing while autograd records (outside <see cref="Autograd.Autograd.NoGrad"/>), where a backward pass may still
    /// read it; nothing for memory no pool lent (then the GC owns it), and nothing on a thread other than the scope's.
    /// </summary>
    public void Release()
    {
        if (lease is null || GradMode.IsEnabled) return;
        lease.GiveBack();
    }

    /// <summary>
    /// <see cref="Release"/> for an op's own temporary, which no autograd node and no caller holds: given back even while
    /// autograd records, and during a backward pass.
    /// </summary>
    internal void ReleaseTemporary() => lease?.GiveBack();

    private InvalidOperationException Released() => lease!.GivenBack
        ? new($"This tensor (shape {Shape}{(GradFn is null ? "" : ", from " + GradFn.Name)}) was released (Tensor.Release, or by " +
              "Sequential between layers under no-grad), and its memory was handed to a later result. Clone() it before release to keep it.")
        : new($"This tensor (shape {Shape}{(GradFn is null ? "" : ", from " + GradFn.Name)}) was made inside a TensorMemoryPool scope that has ended, " +
              "and its memory was handed to a later step. Clone() a tensor inside the scope to keep it.");

    /// <summary>Wraps the tensor's storage; used by <see cref="Nn.Parameter"/>.</summary>
    protected Tensor(Tensor data) : this(data.Storage, data.Offset, data.Shape, data.lease) { }

    /// <summary>The tensor's dimensions, outermost first: (N, C, H, W) for a batch of images.</summary>
    public Shape Shape { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Number of elements.</summary>
    public int Length => Shape.Length;

    /// <summary>The elements, row-major. Writing through the span changes the tensor (and any view of it).</summary>
    public Span<float> AsSpan() => Storage.AsSpan(Offset, Shape.Length);

    internal ReadOnlySpan<float> Data => Storage.AsSpan(Offset, Shape.Length);

    /// <summary>A copy of the elements, row-major.</summary>
    public float[] ToArray() => Data.ToArray();

    /// <summary>The value of a single-element tensor.</summary>
    public float Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() needs a single-element tensor, but the shape is {Shape}.");
        return Storage[Offset];
    }

    /// <summary>The element at the given index (one coordinate per dimension).</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] index]
    {
        get => Storage[Offset + FlatIndex(index)];
        set => Storage[Offset + FlatIndex(index)] = value;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"Index has {index.Length} coordinates but the tensor has rank {Rank} (shape {Shape}).");
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            int d = Shape[i];
            int k = index[i] < 0 ? index[i] + d : index[i];
            if (k < 0 || k >= d) throw new IndexOutOfRangeException($"Index {index[i]} is out of range for dimension {i} of size {d} (shape {Shape}).");
            flat = flat * d + k;
        }
        return flat;
    }

    // ---- autograd ----

    /// <summary>
    /// Whether gradients are computed for this tensor. Settable on leaves only (tensors not produced
    /// by a recorded op); a result requires a gradient when it has a <see cref="GradFn"/>.
    /// </summary>
    public bool RequiresGrad
    {
        get => requiresGrad || GradFn is not null;
        set
        {
            if (GradFn is not null)
                throw new InvalidOperationException(
                    $"RequiresGrad can only be changed on leaf tensors; this one was produced by {GradFn.Name}. Use Detach() to get a leaf.");
            requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient (same shape), or null before the first backward pass reaches it.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The node that computes this tensor's inputs' gradients; null for leaves.</summary>
    public Node? GradFn { get; private set; }

    /// <summary>True for tensors not produced by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>Backpropagates from this single-element tensor (gradient 1).</summary>
    public void Backward(bool retainGraph = false) => Autograd.Autograd.Backward(this, null, retainGraph);

    /// <summary>Backpropagates <paramref name="gradient"/> (same shape as this tensor).</summary>
    public void Backward(Tensor gradient, bool retainGraph = false) => Autograd.Autograd.Backward(this, gradient, retainGraph);

    /// <summary>A tensor sharing this one's storage, cut from the graph: a leaf that requires no gradient.</summary>
    public Tensor Detach() => ViewOf(Offset, Shape);

    /// <summary>A copy of the data as a new leaf that requires no gradient.</summary>
    public Tensor Clone() => new(ToArray(), 0, Shape);

    /// <summary>
    /// Sets the gradient to null (PyTorch's <c>zero_grad(set_to_none=True)</c>), or with
    /// <paramref name="setToNone"/> false fills it with zeros in place, so the next backward pass adds into
    /// the same memory instead of allocating a new gradient (Caffe's ClearParamDiffs).
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        if (setToNone) Grad = null;
        else Grad?.AsSpan().Clear();
    }

    internal AccumulateGrad? GradAccumulator()
    {
        if (GradFn is not null || !requiresGrad) return null;
        return accumulator ??= new AccumulateGrad(this);
    }

    internal void AccumulateGradient(Tensor g)
    {
        if (g.Shape != Shape)
            throw new InvalidOperationException($"Gradient of shape {g.Shape} does not match its tensor's shape {Shape}.");
        if (Grad is null) Grad = g.Clone();
        else System.Numerics.Tensors.TensorPrimitives.Add(Grad.Data, g.Data, Grad.AsSpan());
    }

    /// <summary>The node an op's input feeds its gradient to, or null when it needs none.</summary>
    internal Node? GradientEdge() => GradFn ?? GradAccumulator();

    /// <summary>
    /// Records <paramref name="result"/> as the output of an op with the given inputs and backward rule,
    /// when grad mode is on and an input requires a gradient; otherwise records nothing.
    /// </summary>
    internal static Tensor Record(Tensor result, string name, BackwardFunction backward, params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return result;
        Node?[] next = new Node?[inputs.Length];
        bool any = false;
        for (int i = 0; i < inputs.Length; i++)
        {
            next[i] = inputs[i].GradientEdge();
            any |= next[i] is not null;
        }
        if (any) result.GradFn = new FunctionNode(name, next, backward, result.Length);
        return result;
    }

    /// <summary>a += b without recording, for the engine's gradient accumulation into a buffer only the engine holds.</summary>
    internal static void AddIntoDetached(Tensor a, Tensor b)
    {
        if (a.Shape != b.Shape)
            throw new InvalidOperationException($"Gradients of shapes {a.Shape} and {b.Shape} cannot be summed.");
        Kernels.ThreadedAdd.Add(a.Data, b.Data, a.AsSpan());
    }

    /// <summary>Elementwise sum without recording, for the engine's gradient accumulation.</summary>
    internal static Tensor AddDetached(Tensor a, Tensor b)
    {
        var r = Uninitialized(a.Shape);
        Kernels.ThreadedAdd.Add(a.Data, b.Data, r.AsSpan());   // megabytes in a ResNet block's input gradient: all threads
        return r;
    }
}
