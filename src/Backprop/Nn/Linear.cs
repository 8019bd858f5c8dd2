namespace Backprop.Nn;

/// <summary>
/// Fully connected layer: y = x·Wᵀ + b over the last dimension. Weight (out, in), bias (out).
/// Initialized as PyTorch does (<see cref="Init.PyTorchDefault"/>).
/// </summary>
public sealed class Linear : Module
{
    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null)
    {
        if (inFeatures < 1 || outFeatures < 1) throw new ArgumentException($"Linear({inFeatures}, {outFeatures}): feature counts must be positive.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(outFeatures, inFeatures)));
        Bias = bias ? RegisterParameter("bias", new Parameter(Tensor.Zeros(outFeatures))) : null;
        Init.PyTorchDefault(Weight, Bias, generator ?? Generator.Default);
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override Tensor Forward(Tensor input) => Functional.Linear(input, Weight, Bias);

    protected override string ExtraDescription() => $"{InFeatures}, {OutFeatures}" + (Bias is null ? ", bias=false" : "");
}
