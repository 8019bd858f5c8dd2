using Backprop.Onnx.Import;

namespace Backprop.Cli;

/// <summary>Inputs for running an imported ONNX graph from the command line (graph, time), at the shapes the file declares.</summary>
internal static class OnnxInputs
{
    /// <summary>
    /// One tensor per graph input, made by <paramref name="make"/> at <paramref name="inputShape"/> (single-input
    /// graphs only) or at the file's declared shape, a symbolic batch as 1.
    /// </summary>
    public static Dictionary<string, Tensor> Make(OnnxModule module, IReadOnlyList<int>? inputShape, Func<int[], Tensor> make)
    {
        if (inputShape is not null && module.InputNames.Count != 1)
            throw new ArgumentException($"--input-shape gives one shape, but {module.Source} has {module.InputNames.Count} inputs ({string.Join(", ", module.InputNames)}).");
        var inputs = new Dictionary<string, Tensor>();
        for (int i = 0; i < module.InputNames.Count; i++)
        {
            var shape = inputShape?.ToArray() ?? module.DeclaredInputShapes[i]
                ?? throw new ArgumentException($"{module.Source}: input '{module.InputNames[i]}' declares no shape; give one with --input-shape.");
            inputs[module.InputNames[i]] = make(shape);
        }
        return inputs;
    }

    /// <summary>Random standard-normal inputs, drawn from a fixed seed so runs repeat.</summary>
    public static Dictionary<string, Tensor> Random(OnnxModule module, IReadOnlyList<int>? inputShape = null)
    {
        var generator = new Generator(1);
        return Make(module, inputShape, shape => Tensor.Randn(generator, shape));
    }

    /// <summary>The scalar backward starts from: the sum of every graph output (as <c>time</c> does for a deploy net).</summary>
    public static Tensor BackwardStart(IReadOnlyDictionary<string, Tensor> outputs)
    {
        Tensor? sum = null;
        foreach (var o in outputs.Values) sum = sum is null ? o.Sum() : sum + o.Sum();
        return sum ?? throw new ArgumentException("The graph has no outputs to start the backward pass from.");
    }
}
