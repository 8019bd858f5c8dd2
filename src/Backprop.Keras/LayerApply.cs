namespace Backprop.Keras;

/// <summary>The functional API's call: Keras's <c>layer(x)</c> is <c>layer.Apply(x)</c>.</summary>
public static class LayerApply
{
    /// <summary>
    /// Builds <paramref name="layer"/> on <paramref name="input"/>'s shape (weights drawn from the input's generator)
    /// and returns its symbolic output. A shape the layer cannot take throws with the layer's name and both shapes.
    /// </summary>
    public static KerasTensor Apply(this Layer layer, KerasTensor input)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(input);
        if (layer is MergeLayer merge) return merge.Apply([input]);
        if (layer is InputLayer) throw new ArgumentException("An InputLayer cannot be applied to a tensor; use new Input(shape) to start a functional model.");
        return KerasTensor.Create(layer, [input], () =>
        {
            if (layer.DeclaredInputShape is { } declared && !declared.Equals(input.Shape))
                throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}) declares inputShape {declared}, but is applied to '{input.Layer.Name}' whose output is {input.Shape.WithBatch()}.");
            try
            {
                layer.Build(input.Shape, input.Graph.Generator);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{e.Message} (applied to '{input.Layer.Name}' ({input.Layer.ClassName}))", e);
            }
            return layer.OutputShape;
        });
    }
}
