using System.IO.Compression;
using System.Text.Json.Nodes;
using Backprop.Keras;
using PureHDF;

namespace Backprop.Tests.Keras;

/// <summary>Backprop's .keras and .h5 files: the layout Keras expects, and save → load giving the same predictions bit for bit.</summary>
public sealed class KerasFileRoundTripTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("keras-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static (Sequential Model, Tensor X) Trained()
    {
        var (x, labels) = TrainingTests.Bars(24, 5);
        var model = new Sequential(7,
            new Conv2D(4, 3, padding: "same", activation: "relu", inputShape: (8, 8, 1)),
            new BatchNormalization(),
            new MaxPooling2D(2),
            new Conv2D(3, (2, 3), activation: "tanh", useBias: false),
            new AveragePooling2D(2, padding: "same"),
            new Flatten(),
            new Dropout(0.25),
            new Dense(5, activation: "relu"),
            new Activation("sigmoid"),
            new Dense(2, activation: "softmax"));
        model.Compile("adam", "sparse_categorical_crossentropy");
        model.Fit(x, labels, batchSize: 8, epochs: 1);   // moves weights and batch-norm statistics off their start
        return (model, x);
    }

    [Theory]
    [InlineData("model.keras")]
    [InlineData("model.h5")]
    [InlineData("model.hdf5")]
    public void SaveThenLoadPredictsBitForBit(string file)
    {
        var (model, x) = Trained();
        string path = Path.Combine(dir, file);
        model.Save(path);
        var loaded = Sequential.Load(path);
        Assert.Equal(model.Summary(), loaded.Summary());
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
    }

    [Theory]
    [InlineData("w.weights.h5")]
    [InlineData("w.h5")]
    [InlineData("w.safetensors")]
    public void SaveWeightsThenLoadWeightsPredictsBitForBit(string file)
    {
        var (model, x) = Trained();
        string path = Path.Combine(dir, file);
        model.SaveWeights(path);
        var fresh = new Sequential(99, [.. model.Layers.Select(Recreate)]);
        Assert.NotEqual(model.Predict(x).ToArray(), fresh.Predict(x).ToArray());
        fresh.LoadWeights(path);
        Assert.Equal(model.Predict(x).ToArray(), fresh.Predict(x).ToArray());
    }

    private static Layer Recreate(Layer layer) => layer switch
    {
        Conv2D c => new Conv2D(c.Filters, c.KernelSize, c.Strides, c.Padding, c.ActivationName, c.DeclaredInputShape, c.UseBias),
        Dense d => new Dense(d.Units, d.ActivationName, d.DeclaredInputShape, d.UseBias),
        BatchNormalization => new BatchNormalization(),
        MaxPooling2D p => new MaxPooling2D(p.PoolSize, p.Strides, p.Padding),
        AveragePooling2D p => new AveragePooling2D(p.PoolSize, p.Strides, p.Padding),
        Dropout d => new Dropout(d.Rate),
        Activation a => new Activation(a.ActivationName),
        _ => new Flatten(),
    };

    [Fact]
    public void TheKerasArchiveHasKeras3sLayout()
    {
        var (model, _) = Trained();
        string path = Path.Combine(dir, "layout.keras");
        model.Save(path);
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(["config.json", "metadata.json", "model.weights.h5"], zip.Entries.Select(e => e.FullName).Order());
        var metadata = JsonNode.Parse(zip.GetEntry("metadata.json")!.Open())!;
        Assert.StartsWith("3.", metadata["keras_version"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$", metadata["date_saved"]!.GetValue<string>());

        var config = JsonNode.Parse(zip.GetEntry("config.json")!.Open())!;
        Assert.Equal("keras", config["module"]!.GetValue<string>());
        Assert.Equal("Sequential", config["class_name"]!.GetValue<string>());
        var layers = config["config"]!["layers"]!.AsArray();
        Assert.Equal("InputLayer", layers[0]!["class_name"]!.GetValue<string>());
        Assert.Equal("[null,8,8,1]", layers[0]!["config"]!["batch_shape"]!.ToJsonString());
        var conv = layers[1]!;
        Assert.Equal("keras.layers", conv["module"]!.GetValue<string>());
        Assert.Equal("Conv2D", conv["class_name"]!.GetValue<string>());
        Assert.Equal("[null,8,8,1]", conv["build_config"]!["input_shape"]!.ToJsonString());
        Assert.Equal("GlorotUniform", conv["config"]!["kernel_initializer"]!["class_name"]!.GetValue<string>());
        Assert.Equal("channels_last", conv["config"]!["data_format"]!.GetValue<string>());

        using var weights = new MemoryStream();
        zip.GetEntry("model.weights.h5")!.Open().CopyTo(weights);
        weights.Position = 0;
        using var h5 = H5File.Open(weights, leaveOpen: true);
        Assert.True(h5.LinkExists("vars"));
        var kernel = h5.Group("layers").Group("conv2d").Group("vars").Dataset("0");
        Assert.Equal(new ulong[] { 3, 3, 1, 4 }, kernel.Space.Dimensions);   // (kh, kw, in, out)
        Assert.Equal(((Conv2D)model.Layers[0]).GetWeights()[0].ToArray(), kernel.Read<float[]>());
        Assert.Equal(new ulong[] { 2, 3, 4, 3 }, h5.Group("layers").Group("conv2d_1").Group("vars").Dataset("0").Space.Dimensions);
        Assert.Single(h5.Group("layers").Group("conv2d_1").Group("vars").Children());   // no bias
        Assert.Equal(4, h5.Group("layers").Group("batch_normalization").Group("vars").Children().Count());
        Assert.Equal(new ulong[] { 5, 2 }, h5.Group("layers").Group("dense_1").Group("vars").Dataset("0").Space.Dimensions);   // (in, out)
    }

    [Fact]
    public void TheLegacyH5HasKeras2sLayout()
    {
        var (model, _) = Trained();
        string path = Path.Combine(dir, "layout.h5");
        model.Save(path);
        using var h5 = H5File.OpenRead(path);
        var config = JsonNode.Parse(h5.Attribute("model_config").Read<string>())!;
        Assert.Equal("Sequential", config["class_name"]!.GetValue<string>());
        Assert.Equal("[null,8,8,1]", config["config"]!["layers"]![0]!["config"]!["batch_input_shape"]!.ToJsonString());
        Assert.StartsWith("2.", h5.Attribute("keras_version").Read<string>());
        Assert.Equal("tensorflow", h5.Attribute("backend").Read<string>());
        var weights = h5.Group("model_weights");
        Assert.Equal(model.Layers.Select(l => l.Name), weights.Attribute("layer_names").Read<string[]>());
        var bn = weights.Group("batch_normalization");
        Assert.Equal(["batch_normalization/gamma:0", "batch_normalization/beta:0", "batch_normalization/moving_mean:0", "batch_normalization/moving_variance:0"],
            bn.Attribute("weight_names").Read<string[]>());
        var kernel = weights.Group("conv2d").Group("conv2d").Dataset("kernel:0");
        Assert.Equal(new ulong[] { 3, 3, 1, 4 }, kernel.Space.Dimensions);
        Assert.Equal(((BatchNormalization)model.Layers[1]).GetWeights()[3].ToArray(),
            bn.Group("batch_normalization").Dataset("moving_variance:0").Read<float[]>());
    }
}
