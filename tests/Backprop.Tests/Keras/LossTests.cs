using Backprop.Keras;

namespace Backprop.Tests.Keras;

public class LossTests
{
    [Fact]
    public void BinaryCrossEntropyWithLogitsIsExactAndStable()
    {
        var z = Tensor.FromArray([-3f, 0f, 2f, 100f, -100f], 5, 1);
        var y = Tensor.FromArray([0f, 1f, 1f, 0f, 0f], 5, 1);
        double expected = 0;
        float[] zs = z.ToArray(), ys = y.ToArray();
        for (int i = 0; i < 5; i++)   // max(z, 0) − z·y + log(1 + e^−|z|), in double
            expected += Math.Max(zs[i], 0) - zs[i] * ys[i] + Math.Log(1 + Math.Exp(-Math.Abs(zs[i])));
        Assert.Equal(expected / 5, Losses.BinaryCrossEntropyWithLogits(z, y).Item(), 4);

        var logits = Tensor.Randn(new Generator(2), 4, 3);
        logits.RequiresGrad = true;
        var targets = Tensor.Rand(new Generator(3), 4, 3);
        GradientCheck.Check(t => Losses.BinaryCrossEntropyWithLogits(t[0], targets), [logits], label: "bce with logits");
    }

    [Fact]
    public void FusedCrossEntropyEqualsTheLossOnSoftmaxOutputs()
    {
        var logits = Tensor.Randn(new Generator(4), 6, 4);
        var labels = new[] { 0, 3, 1, 1, 2, 0 };
        var oneHot = Tensor.Zeros(6, 4);
        for (int i = 0; i < 6; i++) oneHot[i, labels[i]] = 1;
        var probabilities = Functional.Softmax(logits, 1);
        float fused = Losses.Compute("categorical_crossentropy", logits, oneHot, null, fromLogits: true).Item();
        float plain = Losses.Compute("categorical_crossentropy", probabilities, oneHot, null, fromLogits: false).Item();
        float sparse = Losses.Compute("sparse_categorical_crossentropy", logits, null, labels, fromLogits: true).Item();
        float sparsePlain = Losses.Compute("sparse_categorical_crossentropy", probabilities, null, labels, fromLogits: false).Item();
        Assert.Equal(plain, fused, 5);
        Assert.Equal(fused, sparse, 5);
        Assert.Equal(fused, sparsePlain, 5);
        var soft = Tensor.Full(0.25f, 6, 4);   // not one-hot: the log-softmax path
        Assert.Equal(Losses.Compute("categorical_crossentropy", probabilities, soft, null, false).Item(),
            Losses.Compute("categorical_crossentropy", logits, soft, null, true).Item(), 5);
    }
}
