namespace Backprop.Nn;

/// <summary>max(x, 0).</summary>
public sealed class Relu : Module
{
    public override Tensor Forward(Tensor input) => Functional.Relu(input);
}

/// <summary>x for x &gt; 0, slope·x otherwise.</summary>
public sealed class LeakyRelu(float negativeSlope = 0.01f) : Module
{
    public float NegativeSlope { get; } = negativeSlope;
    public override Tensor Forward(Tensor input) => Functional.LeakyRelu(input, NegativeSlope);
    protected override string ExtraDescription() => $"negativeSlope={NegativeSlope}";
}

/// <summary>1 / (1 + e^−x).</summary>
public sealed class Sigmoid : Module
{
    public override Tensor Forward(Tensor input) => Functional.Sigmoid(input);
}

/// <summary>Hyperbolic tangent.</summary>
public sealed class Tanh : Module
{
    public override Tensor Forward(Tensor input) => Functional.Tanh(input);
}

/// <summary>Softmax along an axis (default the last).</summary>
public sealed class Softmax(int axis = -1) : Module
{
    public int Axis { get; } = axis;
    public override Tensor Forward(Tensor input) => Functional.Softmax(input, Axis);
    protected override string ExtraDescription() => $"axis={Axis}";
}

/// <summary>Log-softmax along an axis (default the last).</summary>
public sealed class LogSoftmax(int axis = -1) : Module
{
    public int Axis { get; } = axis;
    public override Tensor Forward(Tensor input) => Functional.LogSoftmax(input, Axis);
    protected override string ExtraDescription() => $"axis={Axis}";
}

/// <summary>Flattens dimensions startAxis..endAxis (default: all but the batch).</summary>
public sealed class Flatten(int startAxis = 1, int endAxis = -1) : Module
{
    public override Tensor Forward(Tensor input) => input.Flatten(startAxis, endAxis);
}

/// <summary>Inverted dropout with probability p, active only in training mode.</summary>
public sealed class Dropout : Module
{
    private readonly Generator generator;

    public Dropout(float p = 0.5f, Generator? generator = null)
    {
        if (p < 0 || p > 1 || float.IsNaN(p)) throw new ArgumentException($"Dropout probability must be in [0, 1], got {p}.");
        P = p;
        this.generator = generator ?? Generator.Default;
    }

    public float P { get; }
    public override Tensor Forward(Tensor input) => Functional.Dropout(input, P, IsTraining, generator);
    protected override string ExtraDescription() => $"p={P}";
}
