using System.Text;

namespace Backprop.Nn;

/// <summary>
/// A layer or a network: named parameters, buffers (state that is saved but not learned, like batch-norm
/// running statistics) and child modules, a train/eval mode, and <see cref="Forward"/>. Subclasses register
/// what they own in their constructor: <c>conv1 = RegisterModule("conv1", new Conv2d(1, 20, 5));</c>.
/// </summary>
public abstract partial class Module
{
    private readonly List<KeyValuePair<string, Parameter>> parameters = [];
    private readonly List<KeyValuePair<string, Tensor>> buffers = [];
    private readonly List<KeyValuePair<string, Module>> children = [];

    /// <summary>Computes the module's output.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>True in training mode (the default): dropout drops, batch norm uses batch statistics.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Sets training mode on this module and all its descendants.</summary>
    public Module Train(bool training = true)
    {
        IsTraining = training;
        OnModeSet(training);
        foreach (var (_, child) in children) child.Train(training);
        return this;
    }

    /// <summary>Sets evaluation mode on this module and all its descendants.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Called on this module by <see cref="Train"/> and <see cref="Eval"/> after its flag is set, before its children:
    /// where a module keeps state that only one mode uses (an evaluation-mode cache), it lets the state go here.
    /// </summary>
    protected virtual void OnModeSet(bool training) { }

    // This module's own flag only: a new container whose children are shared with another net (Fusion) must not
    // change their modes.
    internal void SetOwnTraining(bool training)
    {
        IsTraining = training;
        OnModeSet(training);
    }

    /// <summary>Adds a learnable parameter under <paramref name="name"/>; it then appears in <c>Parameters()</c> and state dicts.</summary>
    /// <returns><paramref name="parameter"/>, so a constructor can register and assign in one line.</returns>
    protected Parameter RegisterParameter(string name, Parameter parameter)
    {
        CheckName(name);
        parameters.Add(new(name, parameter));
        return parameter;
    }

    /// <summary>Adds a tensor that is saved with the module but not trained (running statistics, for example).</summary>
    /// <returns><paramref name="buffer"/>.</returns>
    protected Tensor RegisterBuffer(string name, Tensor buffer)
    {
        CheckName(name);
        buffers.Add(new(name, buffer));
        return buffer;
    }

    /// <summary>Adds a child module under <paramref name="name"/>; its parameters are named <c>name.child</c>.</summary>
    /// <returns><paramref name="module"/>.</returns>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckName(name);
        children.Add(new(name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"'{name}' is not a valid member name for {GetType().Name}: it must be non-empty and contain no '.'.");
        if (parameters.Any(p => p.Key == name) || buffers.Any(b => b.Key == name) || children.Any(c => c.Key == name))
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.");
    }

    /// <summary>Direct children with their names.</summary>
    public IReadOnlyList<KeyValuePair<string, Module>> NamedChildren() => children;

    /// <summary>This module and all descendants, with dotted names ("" for this one).</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedModules(string prefix = "")
    {
        yield return new(prefix, this);
        foreach (var (name, child) in children)
            foreach (var m in child.NamedModules(Join(prefix, name))) yield return m;
    }

    /// <summary>All parameters with dotted names such as <c>conv1.weight</c>, in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Parameter>> NamedParameters()
    {
        foreach (var (prefix, module) in NamedModules())
            foreach (var (name, p) in module.parameters) yield return new(Join(prefix, name), p);
    }

    /// <summary>All parameters, in registration order.</summary>
    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Value);

    /// <summary>All buffers with dotted names.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedBuffers()
    {
        foreach (var (prefix, module) in NamedModules())
            foreach (var (name, b) in module.buffers) yield return new(Join(prefix, name), b);
    }

    /// <summary>Number of parameter elements, all or only those that require a gradient.</summary>
    public long ParameterCount(bool trainableOnly = false) =>
        Parameters().Where(p => !trainableOnly || p.RequiresGrad).Sum(p => (long)p.Length);

    /// <summary>Clears the gradients of all parameters (see <see cref="Tensor.ZeroGrad"/>).</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters()) p.ZeroGrad(setToNone);
    }

    /// <summary>Sets <c>RequiresGrad</c> on every parameter: <c>false</c> freezes the module.</summary>
    public Module RequiresGrad(bool requiresGrad)
    {
        foreach (var p in Parameters()) p.RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>Parameters and buffers by dotted name; the tensors share storage with the module.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, p) in NamedParameters()) state[name] = p;
        foreach (var (name, b) in NamedBuffers()) state[name] = b;
        return state;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into the parameters and buffers of the same names.
    /// Missing, unexpected or mis-shaped entries are an error that names them all (with
    /// <paramref name="strict"/> false, missing and unexpected names are allowed). Nothing changes on error.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = StateDict();
        var problems = new List<string>();
        if (strict)
        {
            foreach (var name in own.Keys.Where(k => !state.ContainsKey(k))) problems.Add($"missing '{name}'");
            foreach (var name in state.Keys.Where(k => !own.ContainsKey(k))) problems.Add($"unexpected '{name}'");
        }
        foreach (var (name, target) in own)
            if (state.TryGetValue(name, out var source) && source.Shape != target.Shape)
                problems.Add($"'{name}' has shape {source.Shape} in the state but {target.Shape} in the module");
        if (problems.Count > 0)
            throw new ArgumentException($"Cannot load state into {GetType().Name}: {string.Join("; ", problems)}.");
        foreach (var (name, target) in own)
            if (state.TryGetValue(name, out var source)) source.AsSpan().CopyTo(target.AsSpan());
    }

    /// <summary>The backward graph of <paramref name="output"/> as Graphviz DOT, leaves named by this module's parameter names.</summary>
    public string ToDot(Tensor output) =>
        Autograd.Autograd.ToDot(output, NamedParameters().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value)));

    /// <summary>The arguments shown in <see cref="ToString"/>, those that differ from their defaults.</summary>
    protected virtual string ExtraDescription() => "";

    /// <summary>PyTorch-style description: <c>Conv2d(1, 20, kernel=5)</c>, children indented below.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(GetType().Name).Append('(').Append(ExtraDescription());
        if (children.Count > 0)
        {
            sb.AppendLine();
            foreach (var (name, child) in children)
            {
                string text = child.ToString().Replace("\n", "\n  ", StringComparison.Ordinal);
                sb.Append("  (").Append(name).Append("): ").AppendLine(text);
            }
        }
        return sb.Append(')').ToString();
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}
