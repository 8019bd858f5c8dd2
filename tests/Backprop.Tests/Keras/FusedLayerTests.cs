using Backprop.Keras;
using Backprop.Tests.Kernels;

namespace Backprop.Tests.Keras;

/// <summary>
/// A Keras Sequential runs a Conv2D with a ReLU, a BatchNormalization and Activation("relu"), and those followed by a
/// Conv2D, as fused ops: the bits of the layers one by one, forward, backward and in the moving statistics.
/// </summary>
public class FusedLayerTests
{
    private static Sequential Model() => new(11,
        new Conv2D(8, 3, padding: "same", activation: "relu", inputShape: new KerasShape(8, 8, 3)),
        new BatchNormalization(),
        new Activation("relu"),
        new Conv2D(6, 3, padding: "same"),
        new BatchNormalization(),
        new Activation("relu"),
        new Flatten(),
        new Dense(3));

    // The output, every parameter's gradient and every layer's moving statistics after one forward and backward.
    private static List<float[]> Step(Sequential model, Tensor x, Tensor upstream, bool layerByLayer)
    {
        Tensor y;
        if (layerByLayer)
        {
            y = x;
            foreach (var layer in model.Layers) y = Activations.Apply(layer.ActivationName, layer.Forward(y, training: true));
        }
        else y = model.ForwardChannelsFirst(x, training: true, withoutFinalActivation: false);
        y.Backward(upstream);
        var results = new List<float[]> { y.ToArray() };
        foreach (var layer in model.Layers.Where(l => l.Module is not null))
        {
            results.AddRange(layer.Module!.Parameters().Select(p => p.Grad!.ToArray()));
            results.AddRange(layer.Module.NamedBuffers().Select(b => b.Value.ToArray()));
        }
        return results;
    }

    [Fact]
    public void GivesTheBitsOfTheLayersOneByOne()
    {
        var g = new Generator(12);
        var x = Tensor.Randn(g, 4, 3, 8, 8);
        var upstream = Tensor.Randn(g, 4, 3);
        var expected = Step(Model(), x, upstream, layerByLayer: true);
        var fused = Model();
        var actual = Step(fused, x, upstream, layerByLayer: false);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) KernelTestUtil.AssertBitIdentical(expected[i], actual[i], $"result {i}");

        var names = Autograd.Autograd.Nodes(fused.ForwardChannelsFirst(x, training: true, withoutFinalActivation: false)).Select(n => n.Name).ToList();
        Assert.Contains("ConvolutionReluBackward", names);             // Conv2D(activation: "relu")
        Assert.Contains("BatchNormReluConvolutionBackward", names);    // BatchNormalization, Activation("relu"), Conv2D
        Assert.Contains("BatchNormReluBackward", names);               // BatchNormalization, Activation("relu"), Flatten
        Assert.DoesNotContain("ReluBackward", names);
    }

    [Fact]
    public void UnderNoGradTheNormalizationAndReluStayOneOpBeforeTheConvolution()
    {
        var g = new Generator(13);
        var x = Tensor.Randn(g, 2, 3, 8, 8);
        var model = Model();
        Tensor expected;
        using (Autograd.Autograd.NoGrad())
        {
            expected = x;
            foreach (var layer in model.Layers) expected = Activations.Apply(layer.ActivationName, layer.Forward(expected, training: false));
            KernelTestUtil.AssertBitIdentical(expected.ToArray(),
                model.ForwardChannelsFirst(x, training: false, withoutFinalActivation: false).ToArray(), "no-grad forward");
        }
    }

    [Fact]
    public void KeepsFewerActivationsForBackward()
    {
        var x = Tensor.Randn(new Generator(14), 4, 3, 8, 8);
        long Held(bool layerByLayer)
        {
            var model = Model();
            var pool = new TensorMemoryPool();
            using (pool.Scope())
            {
                var y = x;
                if (layerByLayer)
                    foreach (var layer in model.Layers) y = Activations.Apply(layer.ActivationName, layer.Forward(y, training: true));
                else model.ForwardChannelsFirst(x, training: true, withoutFinalActivation: false);
                return pool.BytesHeld;
            }
        }
        long layerByLayer = Held(true), fused = Held(false);
        // Not kept: the first Conv2D's output before its ReLU, and the normalized values before each Activation("relu").
        // The ReLU's output before the second Conv2D is not kept either, but its buffer stays in the pool, free for a later
        // result of its size (in training, the backward pass's gradients).
        long eight = 4 * 8 * 8 * 8 * sizeof(float), six = 4 * 6 * 8 * 8 * sizeof(float);
        Assert.Equal(layerByLayer - 2 * eight - six, fused);
    }
}
