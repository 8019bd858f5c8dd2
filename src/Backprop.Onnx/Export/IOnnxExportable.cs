using Backprop.Nn;

namespace Backprop.Onnx;

/// <summary>
/// A custom <see cref="Module"/> that knows how to write itself as ONNX nodes: residual blocks and other hand-written
/// modules whose <see cref="Module.Forward"/> is code the exporter cannot read. Implement it by exporting the children
/// in the order Forward runs them and joining them with the context's helpers:
/// <code>
/// public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
/// {
///     var y = context.Export(bn2, context.Export(conv2, context.Relu(context.Export(bn1, context.Export(conv1, input)))));
///     var shortcut = this.shortcut is null ? input : context.Export(this.shortcut, input);
///     return context.Relu(context.Add(y, shortcut));
/// }
/// </code>
/// The export must compute the evaluation-mode function (<see cref="Module.Eval"/>), as the built-in modules do.
/// </summary>
public interface IOnnxExportable
{
    /// <summary>Adds the nodes that compute this module's output from <paramref name="input"/> and returns the output.</summary>
    OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input);
}
