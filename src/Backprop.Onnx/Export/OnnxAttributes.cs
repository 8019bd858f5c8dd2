using Backprop.Onnx.Proto;
using Google.Protobuf;

namespace Backprop.Onnx;

/// <summary>Node attributes for <see cref="OnnxGraphBuilder.AddNode(string, string, IReadOnlyList{string}, AttributeProto[])"/>.</summary>
public static class OnnxAttributes
{
    /// <summary>An INT attribute: <c>Int("group", 2)</c>.</summary>
    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>An INTS attribute: <c>Ints("kernel_shape", 3, 3)</c>.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A FLOAT attribute: <c>Float("alpha", 0.01f)</c>.</summary>
    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>A FLOATS attribute.</summary>
    public static AttributeProto Floats(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }

    /// <summary>A STRING attribute (UTF-8): <c>String("mode", "constant")</c>.</summary>
    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };
}
