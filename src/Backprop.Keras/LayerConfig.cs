using System.Text.Json.Nodes;

namespace Backprop.Keras;

/// <summary>Rebuilds layers from the configs in a model file (<c>{"class_name": "Conv2D", "config": {...}}</c>).</summary>
internal static class LayerConfig
{
    public static JsonObject Write(Layer layer) => new() { ["class_name"] = layer.ClassName, ["config"] = layer.GetConfig() };

    public static Layer Read(JsonNode? node)
    {
        var obj = node as JsonObject ?? throw new InvalidDataException("a layer entry is not a JSON object");
        string cls = obj["class_name"]?.GetValue<string>() ?? throw new InvalidDataException("a layer has no class_name");
        var c = obj["config"] as JsonObject ?? throw new InvalidDataException($"layer {cls} has no config object");
        string? name = c["name"]?.GetValue<string>();
        KerasShape? shape = c["input_shape"] is JsonArray a ? new KerasShape([.. a.Select(d => NotNull(d, "input_shape").GetValue<int>())]) : null;
        Layer layer = cls switch
        {
            "Conv2D" => new Conv2D(Int(c, "filters"), Pair(c, "kernel_size"), Pair(c, "strides"), Str(c, "padding"), Str(c, "activation"),
                shape, Bool(c, "use_bias"), Str(c, "kernel_initializer"), Str(c, "bias_initializer"), name),
            "Dense" => new Dense(Int(c, "units"), Str(c, "activation"), shape, Bool(c, "use_bias"), Str(c, "kernel_initializer"),
                Str(c, "bias_initializer"), name),
            "MaxPooling2D" => new MaxPooling2D(Pair(c, "pool_size"), Pair(c, "strides"), Str(c, "padding"), shape, name),
            "AveragePooling2D" => new AveragePooling2D(Pair(c, "pool_size"), Pair(c, "strides"), Str(c, "padding"), shape, name),
            "GlobalAveragePooling2D" => new GlobalAveragePooling2D(shape, name),
            "Flatten" => new Flatten(shape, name),
            "Dropout" => new Dropout(Double(c, "rate"), shape, name),
            "Activation" => new Activation(Str(c, "activation"), shape, name),
            "BatchNormalization" => new BatchNormalization(Double(c, "momentum"), Double(c, "epsilon"), shape, name),
            "Rescaling" => new Rescaling(Double(c, "scale"), Double(c, "offset"), shape, name),
            "ZeroPadding2D" => new ZeroPadding2D(Sides(c, "padding"), shape, name),
            "UpSampling2D" => new UpSampling2D(Pair(c, "size"), Str(c, "interpolation"), shape, name),
            "Conv2DTranspose" => new Conv2DTranspose(Int(c, "filters"), Pair(c, "kernel_size"), Pair(c, "strides"), Str(c, "padding"),
                c["output_padding"] is null ? null : Pair(c, "output_padding"), Str(c, "activation"), shape, Bool(c, "use_bias"),
                Str(c, "kernel_initializer"), Str(c, "bias_initializer"), name),
            "DepthwiseConv2D" => new DepthwiseConv2D(Pair(c, "kernel_size"), Pair(c, "strides"), Str(c, "padding"), Int(c, "depth_multiplier"),
                Str(c, "activation"), shape, Bool(c, "use_bias"), Str(c, "depthwise_initializer"), Str(c, "bias_initializer"), name),
            "SeparableConv2D" => new SeparableConv2D(Int(c, "filters"), Pair(c, "kernel_size"), Pair(c, "strides"), Str(c, "padding"),
                Int(c, "depth_multiplier"), Str(c, "activation"), shape, Bool(c, "use_bias"), Str(c, "depthwise_initializer"),
                Str(c, "pointwise_initializer"), Str(c, "bias_initializer"), name),
            "Add" => new Add(name),
            "Concatenate" => new Concatenate(c["axis"] is null ? -1 : Int(c, "axis"), name),
            "InputLayer" => new InputLayer(shape ?? throw new InvalidDataException("InputLayer has no input_shape"), name),
            _ => throw new InvalidDataException($"unknown layer class '{cls}'"),
        };
        if (c["trainable"] is { } t) layer.Trainable = t.GetValue<bool>();
        return layer;
    }

    private static JsonNode Field(JsonObject c, string key) => c[key] ?? throw new InvalidDataException($"config has no '{key}'");

    private static int Int(JsonObject c, string key) => Field(c, key).GetValue<int>();

    private static double Double(JsonObject c, string key) => Field(c, key).GetValue<double>();

    private static bool Bool(JsonObject c, string key) => Field(c, key).GetValue<bool>();

    private static string Str(JsonObject c, string key) => Field(c, key).GetValue<string>();

    private static Size2D Pair(JsonObject c, string key)
    {
        var a = Field(c, key) as JsonArray ?? throw new InvalidDataException($"'{key}' is not an array");
        if (a.Count != 2) throw new InvalidDataException($"'{key}' must hold 2 numbers, it holds {a.Count}");
        return new Size2D(NotNull(a[0], key).GetValue<int>(), NotNull(a[1], key).GetValue<int>());
    }

    /// <summary>Keras's ((top, bottom), (left, right)).</summary>
    private static ((int, int), (int, int)) Sides(JsonObject c, string key)
    {
        var a = Field(c, key) as JsonArray ?? throw new InvalidDataException($"'{key}' is not an array");
        if (a.Count != 2) throw new InvalidDataException($"'{key}' must hold 2 pairs, it holds {a.Count}");
        var (h, w) = (PairOf(a[0], key), PairOf(a[1], key));
        return ((h.Height, h.Width), (w.Height, w.Width));
    }

    private static Size2D PairOf(JsonNode? node, string key)
    {
        var a = node as JsonArray ?? throw new InvalidDataException($"'{key}' holds something other than a pair");
        if (a.Count != 2) throw new InvalidDataException($"'{key}' must hold pairs of 2 numbers, one holds {a.Count}");
        return new Size2D(NotNull(a[0], key).GetValue<int>(), NotNull(a[1], key).GetValue<int>());
    }

    /// <summary>An array element of a model file, which may be JSON null.</summary>
    internal static JsonNode NotNull(JsonNode? node, string key) => node ?? throw new InvalidDataException($"'{key}' holds a null");
}
