using System.IO.Compression;
using System.Text;
using PureHDF;

namespace Backprop.Tests.Keras;

/// <summary>
/// Keras files built by hand to the published layouts, independently of Backprop's writer: the JSON is what Keras 3
/// (<c>model.save("m.keras")</c>) and Keras 2 (<c>model.save("m.h5")</c>) write for a small CNN, and the HDF5 groups
/// follow Keras 3's H5IOStore (<c>layers/&lt;class_snake&gt;/vars/&lt;i&gt;</c>) and Keras 2's hdf5_format
/// (<c>model_weights/&lt;layer&gt;/&lt;layer&gt;/kernel:0</c> with <c>layer_names</c>/<c>weight_names</c> attributes).
/// The model: Input (3, 3, 2) → Conv2D(1, 2x2, relu) → Flatten → Dense(1), weights from <see cref="Kernel"/> etc.
/// </summary>
internal static class KerasFixtures
{
    /// <summary>Conv kernel in Keras's (kh, kw, in, out) = (2, 2, 2, 1) order.</summary>
    public static readonly float[] Kernel = [0.5f, -1f, 0.25f, 2f, -0.5f, 1.5f, 1f, -0.75f];
    public static readonly float[] ConvBias = [0.1f];

    /// <summary>Dense kernel (in, out) = (4, 1); the Flatten of a (2, 2, 1) map.</summary>
    public static readonly float[] DenseKernel = [1f, -2f, 0.5f, 3f];
    public static readonly float[] DenseBias = [-0.25f];

    /// <summary>Keras 3's config.json for the model, as <c>serialize_keras_object</c> writes it (Keras 3.3).</summary>
    public const string Keras3Config = """
    {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": true,
      "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
      "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 3, 3, 2], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null},
        {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "dtype": "float32", "filters": 1,
          "kernel_size": [2, 2], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
          "activation": "relu", "use_bias": true,
          "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
          "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
          "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null},
          "registered_name": null, "build_config": {"input_shape": [null, 3, 3, 2]}},
        {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32", "data_format": "channels_last"},
          "registered_name": null, "build_config": {"input_shape": [null, 2, 2, 1]}},
        {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 1,
          "activation": "linear", "use_bias": true,
          "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
          "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
          "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null, "bias_constraint": null},
          "registered_name": null, "build_config": {"input_shape": [null, 4]}}],
      "build_input_shape": [null, 3, 3, 2]},
     "registered_name": null, "build_config": {"input_shape": [null, 3, 3, 2]},
     "compile_config": {"optimizer": "adam", "loss": "mse", "metrics": null, "loss_weights": null, "weighted_metrics": null, "run_eagerly": false, "steps_per_execution": 1, "jit_compile": false}}
    """;

    /// <summary>Keras 2's model_config for the same model (tf.keras 2.x: an InputLayer with batch_input_shape, no modules).</summary>
    public const string Keras2Config = """
    {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 3, 2], "dtype": "float32", "sparse": false, "ragged": false, "name": "conv2d_input"}},
      {"class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "dtype": "float32", "filters": 1, "kernel_size": [2, 2],
        "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu",
        "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null,
        "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
      {"class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32", "data_format": "channels_last"}},
      {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 1, "activation": "linear",
        "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null,
        "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}}]}}
    """;

    /// <summary>Keras 2's training_config attribute for a model compiled with SGD(0.05), loss mse and metric mae.</summary>
    public const string TrainingConfig = """
    {"loss": "mse", "metrics": ["mae"], "weighted_metrics": null, "loss_weights": null,
     "optimizer_config": {"class_name": "SGD", "config": {"name": "SGD", "learning_rate": 0.05, "decay": 0.0, "momentum": 0.0, "nesterov": false}}}
    """;

    private static H5Dataset Data(float[] values, params ulong[] dims) => new(values, fileDims: dims);

    /// <summary>Keras 3's model.weights.h5 for the model.</summary>
    public static H5File Keras3Weights(bool withDense = true)
    {
        var layers = new H5Group
        {
            ["conv2d"] = new H5Group { ["vars"] = new H5Group { ["0"] = Data(Kernel, 2, 2, 2, 1), ["1"] = Data(ConvBias, 1) } },
            ["flatten"] = new H5Group { ["vars"] = new H5Group() },
        };
        if (withDense) layers["dense"] = new H5Group { ["vars"] = new H5Group { ["0"] = Data(DenseKernel, 4, 1), ["1"] = Data(DenseBias, 1) } };
        return new H5File { ["layers"] = layers, ["vars"] = new H5Group() };
    }

    public static byte[] Encode(H5File file, int stringLength = 0)
    {
        using var buffer = new MemoryStream();
        file.Write(buffer, stringLength > 0 ? new H5WriteOptions(DefaultStringLength: stringLength) : null);
        return buffer.ToArray();
    }

    /// <summary>A .keras zip with the given members (stored deflated, as a re-zipped archive might be).</summary>
    public static void WriteKeras(string path, string? config = Keras3Config, byte[]? weights = null)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        void Add(string name, byte[] data)
        {
            using var s = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
            s.Write(data);
        }
        Add("metadata.json", Encoding.UTF8.GetBytes("""{"keras_version": "3.3.3", "date_saved": "2024-05-01@12:00:00"}"""));
        if (config is not null) Add("config.json", Encoding.UTF8.GetBytes(config));
        if (weights is not null) Add("model.weights.h5", weights);
    }

    /// <summary>
    /// Keras 2's whole-model .h5: strings fixed-length as h5py writes Python bytes (<paramref name="withDenseKernel"/>
    /// false leaves the dense kernel out).
    /// </summary>
    public static byte[] Keras2File(bool withDenseKernel = true, string config = Keras2Config)
    {
        var conv = new H5Group { ["kernel:0"] = Data(Kernel, 2, 2, 2, 1), ["bias:0"] = Data(ConvBias, 1) };
        var dense = new H5Group { ["bias:0"] = Data(DenseBias, 1) };
        if (withDenseKernel) dense["kernel:0"] = Data(DenseKernel, 4, 1);
        var weights = new H5Group
        {
            ["conv2d"] = new H5Group { ["conv2d"] = conv },
            ["flatten"] = new H5Group(),
            ["dense"] = new H5Group { ["dense"] = dense },
        };
        ((H5Group)weights["conv2d"]).Attributes["weight_names"] = new[] { "conv2d/kernel:0", "conv2d/bias:0" };
        ((H5Group)weights["flatten"]).Attributes["weight_names"] = new[] { "" }[..0];
        ((H5Group)weights["dense"]).Attributes["weight_names"] = new[] { "dense/kernel:0", "dense/bias:0" };
        weights.Attributes["layer_names"] = new[] { "conv2d", "flatten", "dense" };
        weights.Attributes["backend"] = "tensorflow";
        weights.Attributes["keras_version"] = "2.15.0";
        var file = new H5File { ["model_weights"] = weights };
        file.Attributes["model_config"] = config;
        file.Attributes["keras_version"] = "2.15.0";
        file.Attributes["backend"] = "tensorflow";
        file.Attributes["training_config"] = TrainingConfig;
        return Encode(file, stringLength: Math.Max(config.Length, TrainingConfig.Length) + 1);
    }

    /// <summary>The model's output for one (3, 3, 2) channels-last input, by plain loops over Keras's layouts.</summary>
    public static float Reference(float[] x)
    {
        var map = new float[4];
        for (int oy = 0; oy < 2; oy++)
            for (int ox = 0; ox < 2; ox++)
            {
                float sum = ConvBias[0];
                for (int ky = 0; ky < 2; ky++)
                    for (int kx = 0; kx < 2; kx++)
                        for (int c = 0; c < 2; c++)
                            sum += x[((oy + ky) * 3 + ox + kx) * 2 + c] * Kernel[(ky * 2 + kx) * 2 + c];
                map[oy * 2 + ox] = Math.Max(sum, 0f);
            }
        float y = DenseBias[0];
        for (int i = 0; i < 4; i++) y += map[i] * DenseKernel[i];
        return y;
    }
}
