namespace Backprop.Optim;

/// <summary>
/// Where SGD puts the learning rate: outside the momentum buffer (PyTorch) or inside it (Caffe). The two give the
/// same steps while the learning rate is constant and differ once it changes: Caffe's buffer remembers the rates
/// of past steps, PyTorch's applies the current rate to the whole buffer.
/// </summary>
public enum SgdMomentumStyle
{
    /// <summary>
    /// <c>v = m*v + (1-dampening)*g'</c> (<c>v = g'</c> on the first step); <c>w -= lr*v</c>;
    /// Nesterov: <c>w -= lr*(g' + m*v)</c>. As <c>torch.optim.SGD</c>.
    /// </summary>
    PyTorch,

    /// <summary>
    /// <c>v = m*v + lr*g'</c> (v starts at 0); <c>w -= v</c>. Nesterov (Caffe's NesterovSolver):
    /// <c>v_new = m*v_old + lr*g'</c>; <c>w -= (1+m)*v_new - m*v_old</c>.
    /// </summary>
    Caffe,
}
