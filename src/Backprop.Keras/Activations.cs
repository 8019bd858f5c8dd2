namespace Backprop.Keras;

/// <summary>
/// Keras's activation functions by name, applied to the core's channels-first tensors: softmax runs over
/// axis 1, which is Keras's last (channel or feature) axis.
/// </summary>
public static class Activations
{
    /// <summary>Slope of <c>leaky_relu</c> for negative inputs (Keras's default negative_slope).</summary>
    public const float LeakyReluSlope = 0.2f;

    /// <summary>The names accepted, as in Keras.</summary>
    public static IReadOnlyList<string> Names { get; } = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu"];

    /// <summary>Checks a name (null means linear) and returns it normalized; an unknown name lists the known ones.</summary>
    public static string Validate(string? name, string where)
    {
        string n = name?.Trim().ToLowerInvariant() ?? "linear";
        if (n.Length == 0 || n == "none") n = "linear";
        if (!Names.Contains(n))
            throw new ArgumentException($"{where}: unknown activation '{name}'. Known activations: {string.Join(", ", Names)}.");
        return n;
    }

    /// <summary>Applies the named activation to a channels-first tensor.</summary>
    internal static Tensor Apply(string name, Tensor x) => name switch
    {
        "linear" => x,
        "relu" => Functional.Relu(x),
        "sigmoid" => Functional.Sigmoid(x),
        "tanh" => Functional.Tanh(x),
        "softmax" => Functional.Softmax(x, 1),
        "leaky_relu" => Functional.LeakyRelu(x, LeakyReluSlope),
        _ => throw new ArgumentException($"Unknown activation '{name}'."),
    };
}
