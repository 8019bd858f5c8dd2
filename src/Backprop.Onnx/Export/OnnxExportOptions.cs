namespace Backprop.Onnx;

/// <summary>Choices for <see cref="OnnxExporter"/>.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>The default-domain operator set declared: 17 (default) or as low as 13 for older runtimes.</summary>
    public int Opset { get; init; } = 17;

    /// <summary>The name of the graph's input (default <c>input</c>).</summary>
    public string InputName { get; init; } = "input";

    /// <summary>The name of the graph's output (default <c>output</c>).</summary>
    public string OutputName { get; init; } = "output";

    /// <summary>The graph's name; null uses the model's type name.</summary>
    public string? GraphName { get; init; }
}
