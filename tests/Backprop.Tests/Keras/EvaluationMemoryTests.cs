using Backprop.Keras;

namespace Backprop.Tests.Keras;

/// <summary>Evaluate's batches give each layer's result back to their pool once the next layer has read it.</summary>
public class EvaluationMemoryTests
{
    [Fact]
    public void EvaluateHoldsAFewActivationsNotOnePerLayer()
    {
        const int batch = 32, width = 64, layers = 6;
        var model = new Sequential(5, new Dense(width, inputShape: width));
        for (int i = 1; i < layers; i++) model.Add(new Dense(width, activation: "relu"));
        model.Add(new Dense(1));
        model.Compile(new SGD(0.01), "mse");
        var x = Tensor.Randn(new Generator(6), batch, width);
        var y = Tensor.Randn(new Generator(7), batch, 1);
        double first = model.Evaluate(x, y, batchSize: batch)[0];
        Assert.Equal(first, model.Evaluate(x, y, batchSize: batch)[0]);   // the second pass runs on given-back memory
        long activation = batch * width * sizeof(float);
        Assert.True(model.EvaluationBytesHeld <= 4 * activation,
            $"{model.EvaluationBytesHeld} bytes held for {layers} layers of {activation}-byte activations");
    }
}
