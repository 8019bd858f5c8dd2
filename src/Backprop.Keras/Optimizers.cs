using Backprop.Nn;
using Backprop.Optim;
using static System.FormattableString;

namespace Backprop.Keras;

/// <summary>
/// An optimizer as <c>Compile</c> takes it: a Keras name (<c>"sgd"</c>, <c>"adam"</c>, <c>"adamw"</c>, <c>"rmsprop"</c>,
/// <c>"adagrad"</c>, <c>"adadelta"</c>, <c>"nadam"</c>, <c>"adamax"</c>, with Keras's default hyper-parameters), a configured
/// object of the same name (<see cref="SGD"/>, <see cref="Adam"/>, <see cref="AdamW"/>, ...), or any core optimizer
/// through <see cref="From"/>. The core optimizer is created when the model is compiled.
/// </summary>
public abstract class KerasOptimizer
{
    /// <summary>The Keras name ("sgd", "adam", "adamw", ...; "custom" for <see cref="From"/>).</summary>
    public abstract string Name { get; }

    /// <summary>Creates the core optimizer over the model's trainable parameters.</summary>
    public abstract Optimizer Create(IReadOnlyList<Parameter> parameters);

    /// <summary>An optimizer by Keras name, with Keras's defaults.</summary>
    public static implicit operator KerasOptimizer(string name) => FromName(name);

    /// <summary>Wraps any core optimizer: <c>From(ps => new Backprop.Optim.AdamW(ps, 1e-3f))</c>.</summary>
    public static KerasOptimizer From(Func<IReadOnlyList<Parameter>, Optimizer> create) => new CustomOptimizer(create);

    /// <summary>The Keras names <see cref="FromName"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "nadam", "adamax"];

    /// <summary>An optimizer by Keras name (see <see cref="Names"/>) with Keras's defaults.</summary>
    public static KerasOptimizer FromName(string name) => (name?.Trim().ToLowerInvariant()) switch
    {
        "sgd" => new SGD(),
        "adam" => new Adam(),
        "adamw" => new AdamW(),
        "rmsprop" => new RMSprop(),
        "adagrad" => new Adagrad(),
        "adadelta" => new Adadelta(),
        "nadam" => new Nadam(),
        "adamax" => new Adamax(),
        _ => throw new ArgumentException($"Unknown optimizer '{name}'. Known optimizers: {string.Join(", ", Names)} (or pass an optimizer object)."),
    };

    private sealed class CustomOptimizer(Func<IReadOnlyList<Parameter>, Optimizer> create) : KerasOptimizer
    {
        private readonly Func<IReadOnlyList<Parameter>, Optimizer> create = create ?? throw new ArgumentNullException(nameof(create));

        public override string Name => "custom";

        public override Optimizer Create(IReadOnlyList<Parameter> parameters) => create(parameters);
    }
}

/// <summary>
/// Keras's <c>SGD</c> (default learning rate 0.01, no momentum). Keras keeps the learning rate inside the momentum
/// buffer (m = μ·m − lr·g; w += m), which is the core's <see cref="SgdMomentumStyle.Caffe"/> form.
/// </summary>
public sealed class SGD(double learningRate = 0.01, double momentum = 0, bool nesterov = false) : KerasOptimizer
{
    public double LearningRate { get; } = learningRate;
    public double Momentum { get; } = momentum;
    public bool Nesterov { get; } = nesterov;
    public override string Name => "sgd";

    public override Optimizer Create(IReadOnlyList<Parameter> parameters) =>
        new Sgd(parameters, (float)LearningRate, (float)Momentum, nesterov: Nesterov, style: SgdMomentumStyle.Caffe);

    public override string ToString() => Invariant($"SGD(learning_rate={LearningRate}, momentum={Momentum})");
}

/// <summary>
/// Keras's <c>Adam</c> (learning rate 0.001, β1 0.9, β2 0.999, ε 1e-7). Keras adds ε before the bias correction
/// (w −= lr·√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + ε)), which is the core's <see cref="AdamStyle.Caffe"/> form.
/// </summary>
public sealed class Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) : KerasOptimizer
{
    public double LearningRate { get; } = learningRate;
    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    public double Epsilon { get; } = epsilon;
    public override string Name => "adam";

    public override Optimizer Create(IReadOnlyList<Parameter> parameters) =>
        new Backprop.Optim.Adam(parameters, (float)LearningRate, (float)Beta1, (float)Beta2, (float)Epsilon, style: AdamStyle.Caffe);

    public override string ToString() => Invariant($"Adam(learning_rate={LearningRate})");
}

/// <summary>
/// Keras's <c>RMSprop</c> (learning rate 0.001, ρ 0.9, ε 1e-7, no momentum): v = ρ·v + (1−ρ)·g²;
/// step = lr·g/√(v + ε) (Keras puts ε inside the root, PyTorch outside); with momentum b = μ·b + step, w −= b.
/// </summary>
public sealed class RMSprop(double learningRate = 0.001, double rho = 0.9, double momentum = 0, double epsilon = 1e-7) : KerasOptimizer
{
    public double LearningRate { get; } = learningRate;
    public double Rho { get; } = rho;
    public double Momentum { get; } = momentum;
    public double Epsilon { get; } = epsilon;
    public override string Name => "rmsprop";

    public override Optimizer Create(IReadOnlyList<Parameter> parameters) =>
        new KerasRmsProp(parameters, (float)LearningRate, (float)Rho, (float)Momentum, (float)Epsilon);

    public override string ToString() => Invariant($"RMSprop(learning_rate={LearningRate})");

    private sealed class KerasRmsProp : Optimizer
    {
        private readonly float rho, momentum, epsilon;
        private readonly string[] names;

        public KerasRmsProp(IEnumerable<Parameter> parameters, float learningRate, float rho, float momentum, float epsilon)
            : base(parameters, learningRate, 0f, Regularization.L2)
        {
            if (!(rho >= 0 && rho <= 1)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "rho must be in [0, 1].");
            if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be non-negative.");
            if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be non-negative.");
            (this.rho, this.momentum, this.epsilon) = (rho, momentum, epsilon);
            names = momentum > 0 ? ["velocity", "momentum"] : ["velocity"];
        }

        public override IReadOnlyList<string> StateNames => names;

        protected override void Update(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float weightDecay, ParameterState state)
        {
            var v = state.Buffers[0].AsSpan(0, weights.Length);
            var b = momentum > 0 ? state.Buffers[1].AsSpan(0, weights.Length) : default;
            for (int i = 0; i < weights.Length; i++)
            {
                float g = gradient[i];
                v[i] = rho * v[i] + (1 - rho) * g * g;
                float step = learningRate * g / MathF.Sqrt(v[i] + epsilon);
                if (momentum > 0) weights[i] -= b[i] = momentum * b[i] + step;
                else weights[i] -= step;
            }
        }
    }
}
