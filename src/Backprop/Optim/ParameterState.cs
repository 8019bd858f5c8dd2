namespace Backprop.Optim;

/// <summary>
/// What an optimizer remembers about one parameter: the number of updates applied to it and its named history
/// buffers (momentum, running averages), each as long as the parameter. The arrays are the optimizer's own, not
/// copies: read them to snapshot the state, write into them (and set <see cref="Step"/>) to restore it.
/// </summary>
/// <remarks>
/// The buffers come in the order of <see cref="Optimizer.StateNames"/>, which is the order of Caffe's history blobs:
/// a Caffe <c>.solverstate</c> holds, for N learnable parameters, the first buffer of every parameter, then (for
/// AdaDelta and Adam) the second buffer of every parameter.
/// </remarks>
public sealed class ParameterState
{
    private readonly string[] names;
    private readonly float[][] buffers;
    private int step;

    internal ParameterState(IReadOnlyList<string> names, int length)
    {
        this.names = [.. names];
        buffers = new float[this.names.Length][];
        for (int i = 0; i < buffers.Length; i++) buffers[i] = new float[length];
    }

    /// <summary>
    /// The number of updates applied to the parameter (PyTorch's per-parameter <c>step</c>; Caffe's <c>iter</c> after
    /// the update). Adam's bias correction uses it, and PyTorch-style momentum starts its buffer from the gradient
    /// when it is 1. Set it when restoring a snapshot.
    /// </summary>
    public int Step
    {
        get => step;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            step = value;
        }
    }

    /// <summary>The buffer names, in the optimizer's <see cref="Optimizer.StateNames"/> order.</summary>
    public IReadOnlyList<string> Names => names;

    /// <summary>The buffers, in the order of <see cref="Names"/>.</summary>
    public IReadOnlyList<float[]> Buffers => buffers;

    /// <summary>The buffer with the given name.</summary>
    public float[] this[string name]
    {
        get
        {
            int i = Array.IndexOf(names, name);
            if (i < 0)
                throw new KeyNotFoundException(
                    $"This optimizer keeps no buffer named '{name}'; it keeps [{string.Join(", ", names)}].");
            return buffers[i];
        }
    }
}
