using System.IO.Compression;
using System.Text.Json.Nodes;
using Backprop.Keras;
using Backprop.Keras.Files;
using PureHDF;

namespace Backprop.Tests.Keras;

/// <summary>Functional models in Keras's files: a residual block and a shared Dense saved and loaded, predictions bit for bit.</summary>
public sealed class FunctionalFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("keras-functional-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>conv → conv plus a 1x1 shortcut, added, then pooled to two classes; trained one epoch so nothing is at its start.</summary>
    private static (Model Model, Tensor X) Residual()
    {
        var inputs = new Input((8, 8, 3), 21UL);
        var x = new Conv2D(4, 3, padding: "same", activation: "relu").Apply(inputs);
        x = new BatchNormalization().Apply(x);
        x = new Conv2D(4, 3, padding: "same").Apply(x);
        var shortcut = new Conv2D(4, 1).Apply(inputs);
        x = new Add().Apply(shortcut, x);
        x = new Activation("relu").Apply(x);
        x = new Concatenate().Apply(x, shortcut);
        x = new GlobalAveragePooling2D().Apply(x);
        var outputs = new Dense(2, activation: "softmax").Apply(x);
        var model = new Model(inputs, outputs, "residual");
        var data = Tensor.Rand(new Generator(3), 16, 8, 8, 3);
        model.Compile("adam", "sparse_categorical_crossentropy");
        model.Fit(data, [.. Enumerable.Range(0, 16).Select(i => i % 2)], batchSize: 8, epochs: 1, verbose: 0);
        return (model, data);
    }

    /// <summary>One Dense applied twice (h1 = d(x), h2 = d(h1)), both calls joined, then a head.</summary>
    private static Model SharedDense(ulong seed)
    {
        var inputs = new Input(6, seed);
        var shared = new Dense(6, activation: "tanh");
        var h1 = shared.Apply(inputs);
        var h2 = shared.Apply(h1);
        var joined = new Add().Apply(h1, h2);
        return new Model(inputs, new Dense(1).Apply(joined), "shared");
    }

    private static void AssertSamePredictions(Model expected, Model actual, Tensor x)
    {
        Assert.Equal(expected.Layers.Select(l => (l.Name, l.ClassName)), actual.Layers.Select(l => (l.Name, l.ClassName)));
        Assert.Equal(expected.Predict(x).ToArray(), actual.Predict(x).ToArray());
        Assert.Equal(expected.Summary(print: false), actual.Summary(print: false));
    }

    [Theory]
    [InlineData("residual.keras")]
    [InlineData("residual.h5")]
    public void ResidualBlockRoundTripsBitForBit(string file)
    {
        var (model, x) = Residual();
        string path = Path.Combine(dir, file);
        model.Save(path);
        Assert.True(Model.IsFunctionalFile(path));
        var loaded = Model.Load(path);
        AssertSamePredictions(model, loaded, x);
        Assert.Equal("residual", loaded.Name);
    }

    [Theory]
    [InlineData("shared.keras")]
    [InlineData("shared.h5")]
    public void SharedDenseKeepsOneSetOfWeights(string file)
    {
        var model = SharedDense(4);
        var x = Tensor.Rand(new Generator(8), 5, 6);
        Assert.Equal(4, model.GetWeights().Count);   // the shared Dense's kernel and bias once, the head's
        Assert.Equal(6 * 6 + 6 + 6 + 1, model.ParamCount);
        // Keras lists a shared layer once, connected to the inputs of all its calls.
        string summary = model.Summary(print: false);
        Assert.Contains(" dense (Dense)", summary);
        Assert.Single(summary.Split('\n'), l => l.StartsWith(" dense (Dense)", StringComparison.Ordinal));
        Assert.Contains("['input_1[0][0]',", summary);
        Assert.Contains("'dense[1][0]']", summary);   // the Add takes both calls' outputs
        string path = Path.Combine(dir, file);
        model.Save(path);
        var loaded = Model.Load(path);
        AssertSamePredictions(model, loaded, x);
        Assert.Equal(4, loaded.GetWeights().Count);

        // One layer object serves both calls: training moves the one kernel, and both calls see it.
        loaded.Compile("sgd", "mse");
        var before = loaded.GetLayer("dense").GetWeights()[0].ToArray();
        loaded.Fit(x, Tensor.Ones(5, 1), batchSize: 5, epochs: 1, shuffle: false, verbose: 0);
        Assert.NotEqual(before, loaded.GetLayer("dense").GetWeights()[0].ToArray());
        Assert.Equal(4, loaded.Network.Parameters().Count());
    }

    [Fact]
    public void KerasThreeConfigCarriesInboundNodesAndKerasTensors()
    {
        string path = Path.Combine(dir, "shared.keras");
        SharedDense(4).Save(path);
        using var zip = ZipFile.OpenRead(path);
        using var reader = new StreamReader(zip.GetEntry("config.json")!.Open());
        var root = JsonNode.Parse(reader.ReadToEnd())!;
        Assert.Equal("Functional", root["class_name"]!.GetValue<string>());
        var config = root["config"]!;
        Assert.Equal("""[["input_1",0,0]]""", config["input_layers"]!.ToJsonString());
        Assert.Equal("""[["dense_1",0,0]]""", config["output_layers"]!.ToJsonString());
        var layers = config["layers"]!.AsArray();
        Assert.Equal(["input_1", "dense", "add", "dense_1"], layers.Select(l => l!["name"]!.GetValue<string>()));
        Assert.Empty(layers[0]!["inbound_nodes"]!.AsArray());
        var dense = layers[1]!["inbound_nodes"]!.AsArray();
        Assert.Equal(2, dense.Count);   // called twice
        Assert.Equal("""["dense",0,0]""", dense[1]!["args"]![0]!["config"]!["keras_history"]!.ToJsonString());
        Assert.Equal("__keras_tensor__", dense[1]!["args"]![0]!["class_name"]!.GetValue<string>());
        var add = layers[2]!["inbound_nodes"]![0]!["args"]![0]!.AsArray();   // a merge layer takes one list argument
        Assert.Equal(["""["dense",0,0]""", """["dense",1,0]"""], add.Select(t => t!["config"]!["keras_history"]!.ToJsonString()));
        Assert.Equal("""[null,6]""", add[1]!["config"]!["shape"]!.ToJsonString());
    }

    [Fact]
    public void KerasTwoConfigUsesListInboundNodes()
    {
        string path = Path.Combine(dir, "shared.h5");
        SharedDense(4).Save(path);
        using var file = H5File.OpenRead(path);
        var root = JsonNode.Parse(file.Attribute("model_config").Read<string>())!;
        Assert.Equal("Functional", root["class_name"]!.GetValue<string>());
        var layers = root["config"]!["layers"]!.AsArray();
        Assert.Equal("""[[["input_1",0,0,{}]],[["dense",0,0,{}]]]""", layers[1]!["inbound_nodes"]!.ToJsonString());
        Assert.Equal("""[[["dense",0,0,{}],["dense",1,0,{}]]]""", layers[2]!["inbound_nodes"]!.ToJsonString());
        Assert.NotNull(layers[0]!["config"]!["batch_input_shape"]);
    }

    [Fact]
    public void ReaderAcceptsUnwrappedInputAndOutputLists()
    {
        // Later Keras 3 releases write a single input as ["name", 0, 0] rather than [["name", 0, 0]].
        var model = SharedDense(4);
        var config = KerasFunctionalConfig.Write(model, keras3: true);
        config["config"]!["input_layers"] = JsonNode.Parse("""["input_1",0,0]""");
        config["config"]!["output_layers"] = JsonNode.Parse("""["dense_1",0,0]""");
        var rebuilt = KerasFunctionalConfig.Read(config, new Generator(4), long.MaxValue);
        Assert.Equal(model.Summary(print: false), rebuilt.Summary(print: false));
    }

    [Fact]
    public void BrokenGraphsNameTheLayer()
    {
        var config = KerasFunctionalConfig.Write(SharedDense(4), keras3: false);
        config["config"]!["layers"]![2]!["inbound_nodes"] = JsonNode.Parse("""[[["dense",0,0,{}],["dense",5,0,{}]]]""");
        var e = Assert.Throws<InvalidDataException>(() => KerasFunctionalConfig.Read(config, null, long.MaxValue));
        Assert.Contains("'add'", e.Message);
        Assert.Contains("'dense' (call 5)", e.Message);

        // A config asking for more weights than the file holds is refused before anything is allocated.
        var greedy = KerasFunctionalConfig.Write(SharedDense(4), keras3: true);
        greedy["config"]!["layers"]![3]!["config"]!["units"] = 1_000_000_000;
        var big = Assert.Throws<InvalidDataException>(() => KerasFunctionalConfig.Read(greedy, null, 10_000));
        Assert.Contains("'dense_1'", big.Message);
        Assert.Contains("needs 7000000000 weights, more than the 9958 bytes", big.Message);   // 10000 less the shared Dense's 42

        string path = Path.Combine(dir, "shared.keras");
        SharedDense(4).Save(path);
        var seq = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("Model.Load", seq.Message);
        Assert.Contains(path, seq.Message);
        Assert.Throws<ArgumentException>(() => SharedDense(4).Save(Path.Combine(dir, "m.safetensors")));
    }

    [Fact]
    public void PredictLayerGivesAnInnerLayersOutputChannelsLast()
    {
        var (model, x) = Residual();
        var maps = model.PredictLayer(x, "add");
        Assert.Equal([16, 8, 8, 4], maps.Shape.ToArray());
        var seq = new Sequential(2, new Conv2D(3, 3, inputShape: (6, 6, 1), activation: "relu"), new Flatten(), new Dense(2));
        var y = seq.PredictLayer(Tensor.Rand(new Generator(1), 2, 6, 6, 1), "conv2d");
        Assert.Equal([2, 4, 4, 3], y.Shape.ToArray());
        Assert.True(y.ToArray().All(v => v >= 0));   // relu included
    }
}
