using Backprop.Nn;
using static System.FormattableString;

namespace Backprop.Optim;

/// <summary>
/// Updates parameters in place from their gradients. <see cref="Step"/> visits every parameter that requires a
/// gradient and has one (others are left alone), with
/// <c>lr = LearningRate * p.LearningRateMultiplier</c> and <c>wd = WeightDecay * p.DecayMultiplier</c> (Caffe's
/// <c>lr_mult</c> and <c>decay_mult</c>). Unless the optimizer decouples its decay (<see cref="AdamW"/>), weight decay
/// enters through the gradient: <c>g' = g + wd * w</c> (L2) or <c>g' = g + wd * sign(w)</c> (L1); the parameter's
/// <see cref="Tensor.Grad"/> itself is never changed. Updates work on the storage directly and record no autograd.
/// </summary>
/// <remarks>
/// A schedule sets <see cref="LearningRate"/> before each step: <c>opt.LearningRate = schedule.At(iter)</c>.
/// Per-parameter state (<see cref="State"/>) is created on a parameter's first update, zero-filled.
/// </remarks>
public abstract class Optimizer
{
    private readonly Parameter[] parameters;
    private readonly HashSet<Parameter> members = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Parameter, ParameterState> states = new(ReferenceEqualityComparer.Instance);
    private float learningRate;
    private float weightDecay;
    private float[] scratch = [];

    /// <param name="parameters">The parameters to update; each at most once.</param>
    /// <param name="learningRate">The base learning rate (Caffe's <c>base_lr</c>).</param>
    /// <param name="weightDecay">The base weight decay (Caffe's <c>weight_decay</c>).</param>
    /// <param name="regularization">How the decay is applied (Caffe's <c>regularization_type</c>).</param>
    protected Optimizer(IEnumerable<Parameter> parameters, float learningRate, float weightDecay, Regularization regularization)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = new List<Parameter>();
        foreach (var p in parameters)
        {
            if (p is null) throw new ArgumentException($"Parameter {list.Count} given to {GetType().Name} is null.", nameof(parameters));
            if (!members.Add(p))
                throw new ArgumentException($"Parameter {list.Count} (shape {p.Shape}) given to {GetType().Name} appears more than once.", nameof(parameters));
            list.Add(p);
        }
        if (list.Count == 0) throw new ArgumentException($"{GetType().Name} was given an empty parameter list.", nameof(parameters));
        this.parameters = [.. list];
        LearningRate = learningRate;
        WeightDecay = weightDecay;
        Regularization = regularization;
    }

    /// <summary>The parameters this optimizer updates, in the order given.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>The base learning rate, multiplied by each parameter's <see cref="Parameter.LearningRateMultiplier"/>.</summary>
    public float LearningRate
    {
        get => learningRate;
        set
        {
            if (!(value >= 0) || float.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be finite and non-negative.");
            learningRate = value;
        }
    }

    /// <summary>The base weight decay, multiplied by each parameter's <see cref="Parameter.DecayMultiplier"/>.</summary>
    public float WeightDecay
    {
        get => weightDecay;
        set
        {
            if (!(value >= 0) || float.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "The weight decay must be finite and non-negative.");
            weightDecay = value;
        }
    }

    /// <summary>How <see cref="WeightDecay"/> is applied: L2 (<c>wd * w</c>) or L1 (<c>wd * sign(w)</c>).</summary>
    public Regularization Regularization
    {
        get;
        set
        {
            if (!Enum.IsDefined(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown regularization.");
            field = value;
        }
    }

    /// <summary>The names of the per-parameter history buffers this optimizer keeps, in Caffe's history order.</summary>
    public abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>
    /// The state of <paramref name="parameter"/> (created zero-filled, with step 0, if it has none yet). The arrays
    /// are live: write into them to restore a snapshot.
    /// </summary>
    public ParameterState State(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (!members.Contains(parameter))
            throw new ArgumentException($"The parameter (shape {parameter.Shape}) is not one of this {GetType().Name}'s {parameters.Length} parameters.", nameof(parameter));
        if (!states.TryGetValue(parameter, out var state))
        {
            state = new ParameterState(StateNames, parameter.Length);
            InitializeState(state);
            states.Add(parameter, state);
        }
        return state;
    }

    /// <summary>Fills a new parameter's buffers when they should not start at zero.</summary>
    protected virtual void InitializeState(ParameterState state) { }

    /// <summary>True when the update applies weight decay itself, so <see cref="Step"/> leaves the gradient alone.</summary>
    protected virtual bool DecouplesWeightDecay => false;

    /// <summary>
    /// Updates every parameter that requires a gradient and has one. Gradient shapes are checked for all
    /// parameters first, so nothing changes when one is wrong.
    /// </summary>
    public void Step()
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (p.RequiresGrad && p.Grad is { } grad && grad.Shape != p.Shape)
                throw new InvalidOperationException(
                    $"{GetType().Name}: parameter {i} has shape {p.Shape} but its gradient has shape {grad.Shape}.");
        }
        foreach (var p in parameters)
        {
            if (!p.RequiresGrad || p.Grad is not { } grad) continue;
            var state = State(p);
            state.Step++;
            float lr = LearningRate * p.LearningRateMultiplier;
            float wd = WeightDecay * p.DecayMultiplier;
            Span<float> w = p.AsSpan();
            ReadOnlySpan<float> g = grad.AsSpan();
            if (wd != 0 && !DecouplesWeightDecay) g = Regularize(w, g, wd);
            Update(w, g, lr, wd, state);
        }
    }

    /// <summary>Sets every parameter's gradient to null, or to zeros in place with <paramref name="setToNone"/> false (see <see cref="Tensor.ZeroGrad"/>).</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in parameters) p.ZeroGrad(setToNone);
    }

    /// <summary>
    /// Applies the update rule to one parameter.
    /// </summary>
    /// <param name="weights">The parameter's values, updated in place.</param>
    /// <param name="gradient">The gradient, with weight decay already added unless <see cref="DecouplesWeightDecay"/>.</param>
    /// <param name="learningRate">The effective learning rate (base times the parameter's multiplier).</param>
    /// <param name="weightDecay">The effective weight decay (base times the parameter's multiplier).</param>
    /// <param name="state">The parameter's state; <see cref="ParameterState.Step"/> already counts this update.</param>
    protected abstract void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state);

    /// <summary>Computes <c>g + wd * w</c> (L2) or <c>g + wd * sign(w)</c> (L1) into scratch memory, in float as Caffe.</summary>
    private ReadOnlySpan<float> Regularize(ReadOnlySpan<float> w, ReadOnlySpan<float> g, float wd)
    {
        if (scratch.Length < g.Length) scratch = new float[g.Length];
        var r = scratch.AsSpan(0, g.Length);
        if (Regularization == Regularization.L2)
            Kernels.Updates.AddScaled(g, wd, w, r);   // r = g + wd*w
        else
            for (int i = 0; i < r.Length; i++) r[i] = g[i] + wd * Sign(w[i]);
        return r;
    }

    /// <summary>-1, 0 or 1 (0 for zero and NaN), as Caffe's <c>caffe_sign</c>.</summary>
    protected static float Sign(float x) => x > 0 ? 1f : x < 0 ? -1f : 0f;

    /// <summary>The arguments that differ from their defaults, for <see cref="ToString"/>.</summary>
    protected virtual string ExtraDescription() => "";

    /// <summary>Describes the optimizer: <c>Sgd(lr=0.01, momentum=0.9, weight_decay=0.0005)</c>.</summary>
    public override string ToString()
    {
        string text = Invariant($"lr={LearningRate}");
        if (WeightDecay != 0) text += Invariant($", weight_decay={WeightDecay}");
        if (Regularization != Regularization.L2) text += $", regularization={Regularization}";
        string extra = ExtraDescription();
        if (extra.Length > 0) text += ", " + extra;
        return $"{GetType().Name}({text})";
    }
}
