namespace Backprop.Nn;

/// <summary>Runs its children in order, each on the previous one's output. Children are named 0, 1, 2, ...</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> layers = [];

    public Sequential(params Module[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    /// <summary>Appends a module, named by its position unless <paramref name="name"/> is given.</summary>
    public Sequential Add(Module module, string? name = null)
    {
        RegisterModule(name ?? layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        layers.Add(module);
        return this;
    }

    public int Count => layers.Count;

    public Module this[int index] => layers[index];

    public override Tensor Forward(Tensor input)
    {
        Tensor x = input;
        foreach (var layer in layers) x = layer.Forward(x);
        return x;
    }
}
