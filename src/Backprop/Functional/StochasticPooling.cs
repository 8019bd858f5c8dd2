using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Stochastic pooling over (N, C, H, W) (Caffe's STOCHASTIC): windows without padding, output size as
    /// <see cref="MaxPool2d(Tensor, int, int?, int, bool)"/>. With a <paramref name="generator"/> (training) each window outputs one of
    /// its elements drawn with probability proportional to its value, and the gradient goes to that element; without one (testing)
    /// each window outputs Σx² / Σx (0 where Σx ≤ 0), with that formula's gradient. Inputs are meant to be non-negative.
    /// </summary>
    public static Tensor StochasticPool2d(Tensor input, (int Height, int Width) kernel, (int Height, int Width) stride, Generator? generator,
        bool ceilMode = true)
    {
        var g = PoolGeometry("StochasticPool2d", input, kernel, stride, (0, 0), ceilMode);
        var y = Tensor.Uninitialized(new Shape(g.Batch, g.Channels, g.OutHeight, g.OutWidth));
        if (generator is null)
        {
            StochasticPooling.WeightedAverageForward(g, input.Data, y.AsSpan());
            return Tensor.Record(y, "StochasticPool2DBackward", (dy, _) =>
            {
                var dx = Tensor.Uninitialized(input.Shape);   // cleared by the kernel
                StochasticPooling.WeightedAverageBackward(g, input.Data, dy.Data, dx.AsSpan());
                return [dx];
            }, input);
        }
        var uniform = new float[y.Length];
        generator.FillUniform(uniform, 0f, 1f);
        var chosen = new int[y.Length];
        StochasticPooling.SampleForward(g, input.Data, uniform, y.AsSpan(), chosen);
        return Tensor.Record(y, "StochasticPool2DBackward", (dy, _) =>
        {
            // The drawn element is the window's "maximum": max pooling's scatter applies unchanged.
            var dx = Tensor.Uninitialized(input.Shape);
            Pooling.MaxBackward(g, dy.Data, chosen, dx.AsSpan());
            return [dx];
        }, input);
    }

    /// <summary>
    /// <see cref="MaxPool2d(Tensor, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, bool)"/> that also returns where each maximum came from, as Caffe's
    /// Pooling layer's second top: h·W + w within the input plane, as a float. The indices carry no gradient.
    /// </summary>
    public static (Tensor Values, Tensor Indices) MaxPool2dWithIndices(Tensor input, (int Height, int Width) kernel, (int Height, int Width) stride,
        (int Height, int Width) padding, bool ceilMode = false)
    {
        var g = PoolGeometry("MaxPool2d", input, kernel, stride, padding, ceilMode);
        var y = Tensor.Uninitialized(new Shape(g.Batch, g.Channels, g.OutHeight, g.OutWidth));
        var argmax = new int[y.Length];
        Pooling.MaxForward(g, input.Data, y.AsSpan(), argmax);
        var indices = Tensor.Uninitialized(y.Shape);
        var id = indices.AsSpan();
        for (int i = 0; i < argmax.Length; i++) id[i] = argmax[i];
        var values = Tensor.Record(y, "MaxPool2DWithIndicesBackward", (dy, _) =>
        {
            var dx = Tensor.Uninitialized(input.Shape);
            Pooling.MaxBackward(g, dy.Data, argmax, dx.AsSpan());
            return [dx];
        }, input);
        return (values, indices);
    }
}
