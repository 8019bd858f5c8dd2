namespace Backprop.Keras;

public sealed partial class Sequential
{
    /// <summary>
    /// The output of layer <paramref name="layerName"/> (activation included) for <paramref name="x"/>, in Keras's
    /// channels-last order: Keras's <c>Model(model.inputs, model.get_layer(name).output).predict(x)</c>, the way to look
    /// at a layer's feature maps. Runs in inference mode without recording gradients.
    /// </summary>
    public Tensor PredictLayer(Tensor x, string layerName)
    {
        ArgumentException.ThrowIfNullOrEmpty(layerName);
        var target = GetLayer(layerName);
        var xs = ToChannelsFirst(x, "PredictLayer");
        network.Eval();
        using (Autograd.Autograd.NoGrad())
        {
            foreach (var layer in layers)
            {
                xs = layer.Call(xs, training: false);
                if (layer == target) break;
            }
        }
        return ToChannelsLast(xs);
    }
}

public sealed partial class Model
{
    /// <summary>
    /// The output of layer <paramref name="layerName"/> (its first call, activation included) for <paramref name="x"/>,
    /// channels-last: Keras's <c>Model(model.inputs, model.get_layer(name).output).predict(x)</c>. Runs in inference
    /// mode without recording gradients.
    /// </summary>
    public Tensor PredictLayer(Tensor x, string layerName)
    {
        ArgumentException.ThrowIfNullOrEmpty(layerName);
        var target = GetLayer(layerName);
        var xs = trainer.ToChannelsFirst(x, "PredictLayer");
        Network.Eval();
        using (Autograd.Autograd.NoGrad()) return Sequential.ToChannelsLast(graph.RunTo(xs, target));
    }

    /// <summary>
    /// True when <paramref name="path"/> is a <c>.keras</c> or <c>.h5</c> file holding a functional model (load it with
    /// <see cref="Load"/>); false for a Sequential one or another extension.
    /// </summary>
    public static bool IsFunctionalFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Sequential.KindOf(path) is not (Sequential.FileKind.Keras3 or Sequential.FileKind.LegacyH5) || !File.Exists(path)) return false;
        return Files.KerasFunctionalConfig.IsFunctional(ReadKerasFile(path).Config);
    }
}
