using Backprop.Nn;

namespace Backprop.Onnx.Import;

/// <summary>
/// Holds imported weights under the dotted names of their initializers: "layer1.conv1.weight" becomes group "layer1",
/// group "conv1", parameter "weight", so <see cref="Module.NamedParameters"/> and saved files use the ONNX names.
/// </summary>
public sealed class OnnxParameterGroup : Module
{
    internal OnnxParameterGroup() { }

    /// <summary>A group only holds weights; the enclosing <see cref="OnnxModule"/> runs the graph.</summary>
    public override Tensor Forward(Tensor input) =>
        throw new InvalidOperationException("An OnnxParameterGroup only holds weights; call Forward on the OnnxModule that owns it.");

    internal Parameter AddParameter(string name, Parameter p) => RegisterParameter(name, p);

    internal Tensor AddBuffer(string name, Tensor t) => RegisterBuffer(name, t);

    internal OnnxParameterGroup Group(string name) =>
        NamedChildren().FirstOrDefault(c => c.Key == name).Value as OnnxParameterGroup ?? RegisterModule(name, new OnnxParameterGroup());
}
