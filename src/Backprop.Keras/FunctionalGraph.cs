namespace Backprop.Keras;

/// <summary>
/// What the tensors downstream of one <see cref="Input"/> share: the generator their layers draw weights from, the
/// layers' output tensors in call order, and the names taken (Keras's default names, unique within the graph).
/// </summary>
internal sealed class FunctionalGraph(Generator generator)
{
    public Generator Generator { get; } = generator;

    public Input Input { get; set; } = null!;

    /// <summary>Every layer output created from this input, in call order (a valid order to run them in).</summary>
    public List<KerasTensor> Nodes { get; } = [];

    private readonly HashSet<string> names = [];

    /// <summary>Keeps a name given by the user (unique) or gives Keras's default: conv2d, conv2d_1, ...</summary>
    public void AssignName(Layer layer, string? defaultName = null)
    {
        if (layer.Name.Length > 0)
        {
            if (!names.Add(layer.Name)) throw new ArgumentException($"A layer named '{layer.Name}' is already in this model; layer names must be unique.");
            return;
        }
        string stem = defaultName ?? Sequential.SnakeCase(layer.ClassName);
        string name = stem;
        for (int i = 1; names.Contains(name); i++) name = $"{stem}_{i}";
        names.Add(name);
        layer.Name = name;
    }

    /// <summary>Gives back the name of a layer whose call failed (a default name is cleared).</summary>
    public void ReleaseName(Layer layer, bool givenByUser)
    {
        names.Remove(layer.Name);
        if (!givenByUser) layer.Name = "";
    }
}
