namespace Backprop.Autograd;

/// <summary>
/// The backward rule of one differentiable op in the recorded graph. <see cref="Next"/> holds, for
/// each input of the op, the node its gradient flows to (the input's own grad_fn, or the
/// <see cref="AccumulateGrad"/> of a leaf that requires a gradient), or null where no gradient is needed.
/// </summary>
public abstract class Node
{
    private static long counter;

    protected Node(string name, Node?[] next)
    {
        Name = name;
        Next = next;
        SequenceNumber = Interlocked.Increment(ref counter);
    }

    /// <summary>PyTorch's name for the node, e.g. <c>ConvolutionBackward</c>.</summary>
    public string Name { get; }

    /// <summary>Where each input's gradient goes; null for inputs that need none.</summary>
    public IReadOnlyList<Node?> Next { get; }

    /// <summary>Creation order; later ops have larger numbers.</summary>
    public long SequenceNumber { get; }

    /// <summary>The sequence number of the most recently created node (to tell which nodes a piece of code recorded).</summary>
    public static long LatestSequenceNumber => Interlocked.Read(ref counter);

    /// <summary>True once a backward pass without <c>retainGraph</c> freed the saved values.</summary>
    public bool IsReleased { get; protected set; }

    /// <summary>Whether input <paramref name="index"/> needs a gradient.</summary>
    public bool NeedsInputGradient(int index) => Next[index] is not null;

    /// <summary>Gradients for each input given the gradient of the output (null where not needed).</summary>
    internal abstract Tensor?[] Apply(Tensor gradOutput);

    /// <summary>Frees the values saved for backward.</summary>
    internal virtual void Release() => IsReleased = true;

    public override string ToString() => Name;
}

/// <summary>Computes input gradients from the output gradient; <c>needs[i]</c> says which are wanted.</summary>
public delegate Tensor?[] BackwardFunction(Tensor gradOutput, bool[] needs);

/// <summary>A node whose backward rule is a closure written beside its forward op.</summary>
internal sealed class FunctionNode : Node
{
    private BackwardFunction? backward;
    private readonly bool[] needs;

    /// <summary>Elements of the op's output, so of the gradient this node receives (0 when not known).</summary>
    public int OutputLength { get; }

    public FunctionNode(string name, Node?[] next, BackwardFunction backward, int outputLength = 0) : base(name, next)
    {
        OutputLength = outputLength;
        this.backward = backward;
        needs = new bool[next.Length];
        for (int i = 0; i < next.Length; i++) needs[i] = next[i] is not null;
    }

    internal override Tensor?[] Apply(Tensor gradOutput)
    {
        if (backward is null)
            throw new InvalidOperationException(
                $"Trying to run {Name} a second time: its saved values were freed by the first Backward(). " +
                "Pass retainGraph: true to the first Backward() call to backward through the graph again.");
        return backward(gradOutput, needs);
    }

    internal override void Release()
    {
        backward = null;
        base.Release();
    }
}

/// <summary>The end of the graph at a leaf tensor that requires a gradient: adds into its <c>Grad</c>.</summary>
public sealed class AccumulateGrad : Node
{
    internal AccumulateGrad(Tensor variable) : base("AccumulateGrad", []) => Variable = variable;

    /// <summary>The leaf whose gradient this node accumulates.</summary>
    public Tensor Variable { get; }

    internal override Tensor?[] Apply(Tensor gradOutput)
    {
        Variable.AccumulateGradient(gradOutput);
        Variable.GradientAddedInPlace = false;
        Variable.RunPostAccumulateGradHooks();
        return [];
    }

    /// <summary>
    /// Called by the engine when this node's turn comes without a gradient to add: an op may have added the leaf's
    /// gradient inside its own product (Linear's weight); the leaf's hooks still hear that its gradient is complete.
    /// </summary>
    internal void CompletedWithoutGradient()
    {
        if (!Variable.GradientAddedInPlace) return;
        Variable.GradientAddedInPlace = false;
        Variable.RunPostAccumulateGradHooks();
    }

    // A leaf's accumulator holds nothing that a second pass would need.
    internal override void Release() { }
}
