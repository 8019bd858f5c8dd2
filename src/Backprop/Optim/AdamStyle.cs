namespace Backprop.Optim;

/// <summary>
/// Where Adam adds epsilon. With bias corrections <c>b1 = 1 - beta1^t</c>, <c>b2 = 1 - beta2^t</c>, the two
/// frameworks differ only there, and only noticeably while <c>sqrt(v)</c> is near epsilon.
/// </summary>
public enum AdamStyle
{
    /// <summary><c>w -= (lr/b1) * m / (sqrt(v)/sqrt(b2) + eps)</c>, as <c>torch.optim.Adam</c>.</summary>
    PyTorch,

    /// <summary><c>w -= lr * sqrt(b2)/b1 * m / (sqrt(v) + eps)</c>, as Caffe's AdamSolver (<c>delta</c> is eps).</summary>
    Caffe,
}
