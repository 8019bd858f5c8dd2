using Backprop.Nn;

namespace Backprop.Keras;

/// <summary>
/// Keras's initializers by name, filling a core tensor from the model's generator. Fans are Keras's: a conv
/// kernel (kh, kw, in, out) has fan_in = kh·kw·in and fan_out = kh·kw·out, the same numbers the core computes
/// for its (out, in, kh, kw) layout, so filling the core tensor draws from the same distribution.
/// </summary>
public static class Initializers
{
    /// <summary>The names accepted.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
         "zeros", "ones", "random_normal", "random_uniform"];

    /// <summary>Checks a name and returns it normalized; an unknown name lists the known ones.</summary>
    public static string Validate(string name, string where)
    {
        string n = name?.Trim().ToLowerInvariant() ?? "";
        n = n switch { "xavier_uniform" => "glorot_uniform", "xavier_normal" => "glorot_normal", "zero" => "zeros", "one" => "ones", _ => n };
        if (!Names.Contains(n))
            throw new ArgumentException($"{where}: unknown initializer '{name}'. Known initializers: {string.Join(", ", Names)}.");
        return n;
    }

    /// <summary>
    /// Fills <paramref name="tensor"/> with the named initializer. random_normal is N(0, 0.05²) and random_uniform
    /// U[−0.05, 0.05], Keras's defaults; the *_normal variance-scaling ones are truncated at 2σ as in Keras.
    /// </summary>
    public static void Fill(string name, Tensor tensor, Generator generator)
    {
        switch (Validate(name, "initializer"))
        {
            case "glorot_uniform": Init.GlorotUniform(tensor, generator); break;
            case "glorot_normal": Init.GlorotNormal(tensor, generator); break;
            case "he_uniform": Init.HeUniform(tensor, generator); break;
            case "he_normal": Init.HeNormal(tensor, generator); break;
            case "lecun_uniform": Init.LeCunUniform(tensor, generator); break;
            case "lecun_normal": Init.LeCunNormal(tensor, generator); break;
            case "zeros": Init.Constant(tensor, 0f); break;
            case "ones": Init.Constant(tensor, 1f); break;
            case "random_normal": Init.Gaussian(tensor, 0f, 0.05f, generator); break;
            case "random_uniform": Init.Uniform(tensor, -0.05f, 0.05f, generator); break;
        }
    }
}
