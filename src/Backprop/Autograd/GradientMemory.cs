namespace Backprop.Autograd;

/// <summary>
/// Lets a backward pass give the memory of each gradient back to the open <see cref="TensorMemoryPool"/> scope as soon
/// as the engine holds it no more, so that later nodes of the same pass reuse it (PyTorch frees an activation's
/// gradient once its node has run). Peak memory then holds the gradients in flight, not every gradient of the step.
/// Only buffers lent during this pass are given back: forward activations, and anything else user code may hold,
/// were lent before it. Gradients are counted by storage, because a node may pass its incoming gradient on
/// unchanged or as a view (Add, Reshape), even to several inputs.
/// </summary>
internal sealed class GradientMemory
{
    private readonly TensorMemoryPool pool;
    private readonly int mark;
    private readonly Dictionary<float[], int> held = new(ReferenceEqualityComparer.Instance);
    private readonly List<float[]> maybeDead = [];

    private GradientMemory(TensorMemoryPool pool)
    {
        this.pool = pool;
        mark = pool.LentFloatCount;
    }

    /// <summary>
    /// Tracks the pass starting at <paramref name="root"/>'s gradient, or null when no pool scope is open.
    /// <paramref name="largestGradient"/>: the most elements a gradient of this pass has (the largest output of a node it
    /// runs); the pool sizes the pass's gradient buffers by it (<see cref="TensorMemoryPool.LendStorage"/>).
    /// </summary>
    public static GradientMemory? Begin(Tensor root, int largestGradient = 0)
    {
        if (TensorMemoryPool.Current is not { InScope: true } pool) return null;
        var memory = new GradientMemory(pool) { outerGradientLength = pool.BackwardGradientLength };
        memory.Held(root);
        pool.BackwardGradientLength = largestGradient;
        return memory;
    }

    // A backward pass run inside a node of another one (double backward) gives the outer pass its sizing back.
    private int outerGradientLength;

    /// <summary>The pass is over: tensor storage is sized as before it began (exactly, outside any pass).</summary>
    public void End() => pool.BackwardGradientLength = outerGradientLength;

    /// <summary>The engine now holds <paramref name="gradient"/> (waiting for its node).</summary>
    public void Held(Tensor gradient)
    {
        if (!gradient.IsLent) return;
        var storage = gradient.Storage;
        held[storage] = held.GetValueOrDefault(storage) + 1;
    }

    /// <summary>
    /// Whether the engine may add into <paramref name="sum"/> in place: its storage was lent during this pass, the engine
    /// holds it once (no other waiting gradient shares it) and none of <paramref name="outputs"/> (the node's results
    /// being filed) uses it. Such a buffer is the engine's alone: a node's result is read by nobody but the engine
    /// (leaves' AccumulateGrad copies or adds it into their own Grad), and anything lent before the pass (forward
    /// activations, the gradient the caller passed in) is never written.
    /// </summary>
    public bool OwnsAlone(Tensor sum, Tensor?[] outputs)
    {
        if (!sum.IsLent) return false;
        var storage = sum.Storage;
        if (held.GetValueOrDefault(storage) != 1) return false;
        foreach (var output in outputs)
            if (output is not null && output.IsLent && ReferenceEquals(output.Storage, storage)) return false;
        return pool.LentSince(storage, mark);
    }

    /// <summary>The engine let go of <paramref name="gradient"/> (its node ran, or it was summed into another).</summary>
    public void Consumed(Tensor gradient)
    {
        if (!gradient.IsLent) return;
        var storage = gradient.Storage;
        if (held.TryGetValue(storage, out int n) && n > 1) held[storage] = n - 1;
        else held.Remove(storage);
        maybeDead.Add(storage);
    }

    /// <summary>A node's output the engine summed into another and never held; dead unless a held gradient shares it.</summary>
    public void Dropped(Tensor gradient)
    {
        if (gradient.IsLent) maybeDead.Add(gradient.Storage);
    }

    /// <summary>
    /// After a node ran, before its outputs are filed: gives back the let-go storages (its incoming gradient) that no held
    /// gradient and none of <paramref name="outputs"/> share, so that filing the outputs (the engine's sums) can reuse them.
    /// An output may pass the incoming gradient on, or be a view of it; those wait for <see cref="GiveBackDead()"/>.
    /// </summary>
    public void GiveBackDead(Tensor?[] outputs)
    {
        maybeDead.RemoveAll(storage =>
        {
            if (held.ContainsKey(storage)) return false;
            foreach (var output in outputs)
                if (output is not null && output.IsLent && ReferenceEquals(output.Storage, storage)) return false;
            pool.GiveBackEarly(storage, mark);
            return true;
        });
    }

    /// <summary>After a node's outputs are filed: gives back every let-go storage no held gradient shares.</summary>
    public void GiveBackDead()
    {
        foreach (var storage in maybeDead)
            if (!held.ContainsKey(storage)) pool.GiveBackEarly(storage, mark);
        maybeDead.Clear();
    }
}
