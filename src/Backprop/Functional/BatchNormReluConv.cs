using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// <c>Conv2d(BatchNormRelu(input, ...), ...)</c> as one op, with the same bits forward and backward as the two ops,
    /// but without keeping the normalized activation between them for backward. Its memory goes back to the pool as soon as
    /// the convolution has read it, and backward recomputes it from the BatchNorm's input and statistics, with the forward's
    /// own float operations, for the convolution's weight gradient (one elementwise pass; none when the convolution's
    /// parameters want no gradient). This is the recomputation of memory-efficient DenseNets: in a ResNet block or a VGG
    /// stage one activation of each conv, BatchNorm, ReLU, conv run is kept instead of two. Arguments as
    /// <see cref="BatchNormRelu"/> (the BatchNorm's) and <see cref="Conv2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, int)"/>
    /// (the convolution's).
    /// </summary>
    public static Tensor BatchNormReluConv2d(Tensor input, Tensor runningMean, Tensor runningVar, Tensor? normWeight, Tensor? normBias,
        bool training, float momentum, float eps, Tensor convWeight, Tensor? convBias, (int Height, int Width) stride,
        (int Height, int Width) padding, (int Height, int Width) dilation, int groups = 1)
    {
        // The convolution is checked first: a bad one must not have moved the running statistics.
        var g = ConvolutionGeometry(input, convWeight, convBias, stride, padding, dilation, groups, relu: false, residual: null);
        var h = Tensor.Uninitialized(input.Shape);
        var stats = BatchNormStatistics(input, runningMean, runningVar, normWeight, normBias, training, momentum, eps, h, relu: true, null);
        var y = Tensor.Uninitialized(new Shape(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth));
        ReadOnlySpan<float> convBiasData = convBias is null ? default : convBias.Data;
        Convolution.Forward(g, h.Data, convWeight.Data, convBiasData, y.AsSpan(), relu: false);
        h.ReleaseTemporary();

        int normInputs = 1 + (normWeight is null ? 0 : 1) + (normBias is null ? 0 : 1);
        var inputs = new List<Tensor> { input };
        if (normWeight is not null) inputs.Add(normWeight);
        if (normBias is not null) inputs.Add(normBias);
        inputs.Add(convWeight);
        if (convBias is not null) inputs.Add(convBias);
        return Tensor.Record(y, "BatchNormReluConvolutionBackward", (dy, needs) =>
        {
            var grads = new Tensor?[needs.Length];
            bool needConvWeight = needs[normInputs], needConvBias = convBias is not null && needs[normInputs + 1];
            if (needConvWeight || needConvBias)
            {
                var recomputed = Tensor.Uninitialized(input.Shape);
                Kernels.BatchNorm.Normalize(input.Data, stats.N, stats.C, stats.Inner, stats.Mean, stats.InvStd,
                    normWeight is null ? default : normWeight.Data, normBias is null ? default : normBias.Data, recomputed.AsSpan(), relu: true);
                var dw = Tensor.Uninitialized(convWeight.Shape);   // the weight kernel computes the bias gradient in the same pass
                var db = needConvBias ? Tensor.Uninitialized(convBias!.Shape) : null;
                Convolution.BackwardWeights(g, recomputed.Data, dy.Data, dw.AsSpan(), db is null ? default : db.AsSpan());
                recomputed.ReleaseTemporary();
                if (needConvWeight) grads[normInputs] = dw;
                if (needConvBias) grads[normInputs + 1] = db;
            }
            var normNeeds = needs[..normInputs];
            if (Array.IndexOf(normNeeds, true) >= 0)
            {
                var dh = Tensor.Uninitialized(input.Shape);   // overwritten by the kernel
                Convolution.BackwardData(g, dy.Data, convWeight.Data, dh.AsSpan());
                // The input's gradient overwrites dh: the node holds two gradients at once (dy and dh), as the two ops' nodes did.
                var normGrads = BatchNormGradients(input, dh, normWeight, normBias, stats, training, normNeeds, relu: true,
                    dxInto: normNeeds[0] ? dh : null);
                if (!normNeeds[0]) dh.ReleaseTemporary();
                normGrads.CopyTo(grads, 0);
            }
            return grads;
        }, inputs.ToArray());
    }
}
