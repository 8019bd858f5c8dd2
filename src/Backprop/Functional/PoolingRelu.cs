using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// <c>Relu(MaxPool2d(...))</c> as one op, with the same bits forward and backward: the ReLU is applied as each window's
    /// maximum is stored, and backward masks the gradient by this op's output while spreading it to the argmax (no separate
    /// ReLU pass either way). Arguments as <see cref="MaxPool2d(Tensor, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, bool)"/>.
    /// </summary>
    public static Tensor MaxPool2dRelu(Tensor input, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding, bool ceilMode = false)
    {
        var g = PoolGeometry("MaxPool2dRelu", input, kernel, stride, padding, ceilMode);
        var y = Tensor.Uninitialized(new Shape(g.Batch, g.Channels, g.OutHeight, g.OutWidth));
        if (!Autograd.GradMode.IsEnabled || !input.RequiresGrad)
        {
            Pooling.MaxForwardValues(g, input.Data, y.AsSpan());   // nothing will be recorded: no argmax needed
            Activations.ReluInPlace(y.AsSpan());
            return y;
        }
        var argmax = TensorMemoryPool.RentInts(y.Length);
        Pooling.MaxForward(g, input.Data, y.AsSpan(), argmax, relu: true);
        return Tensor.Record(y, "MaxPool2DReluBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);   // the kernel clears and fills every plane
            Pooling.MaxBackward(g, dy.Data, argmax, dx.AsSpan(), y.Data);   // y > 0 exactly where the pooling's maximum was
            return [dx];
        }, input);
    }
}
