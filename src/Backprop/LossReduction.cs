namespace Backprop;

/// <summary>How a loss combines its per-element terms (PyTorch's <c>reduction</c> argument).</summary>
public enum LossReduction
{
    /// <summary>The mean over all elements (0 for an empty input).</summary>
    Mean,

    /// <summary>The sum over all elements.</summary>
    Sum,

    /// <summary>No reduction: one loss per element, in the input's shape.</summary>
    None,
}
