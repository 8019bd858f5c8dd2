using Backprop.IO;
using Backprop.Keras;

namespace Backprop.Tests.Keras;

public sealed class PersistenceAndErrorTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("keras-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void SaveLoadRoundTripGivesIdenticalPredictions()
    {
        var (x, labels) = TrainingTests.Bars(24, 5);
        var model = new Sequential(3,
            new Conv2D(4, 3, strides: 2, padding: "same", activation: "leaky_relu", inputShape: (8, 8, 1)),
            new BatchNormalization(),
            new AveragePooling2D(2, padding: "same"),
            new Flatten(),
            new Dropout(0.25),
            new Dense(2, activation: "softmax", kernelInitializer: "lecun_normal"));
        model.Compile(new RMSprop(0.01), "sparse_categorical_crossentropy", ["accuracy"]);
        model.Fit(x, labels, batchSize: 8, epochs: 1);   // moves the batch-norm statistics off their start
        string path = Path.Combine(dir, "model.safetensors");
        model.Save(path);

        var loaded = Sequential.Load(path);
        Assert.Equal(model.Summary(print: false), loaded.Summary(print: false));
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
        Assert.True(loaded.IsCompiled);
        Assert.Equal("sparse_categorical_crossentropy", loaded.Loss);
        Assert.Equal(model.Evaluate(x, labels)[0], loaded.Evaluate(x, labels, returnDict: true)["loss"], 6);
        Assert.Equal(Sequential.FileFormat, SafeTensors.ReadMetadata(path)["format"]);
    }

    [Fact]
    public void ModelCheckpointSavesTheBestEpochs()
    {
        var (x, labels) = TrainingTests.Bars(16, 6);
        var model = new Sequential(3, new Flatten(inputShape: (8, 8, 1)), new Dense(2, activation: "softmax"));
        model.Compile("adam", "sparse_categorical_crossentropy");
        var checkpoint = new ModelCheckpoint(Path.Combine(dir, "ckpt-{epoch:02d}-{loss:.2f}.safetensors"), monitor: "loss", saveBestOnly: true);
        model.Fit(x, labels, epochs: 2, callbacks: [checkpoint]);
        Assert.NotEmpty(checkpoint.Saved);
        Assert.Matches(@"ckpt-01-\d\.\d\d\.safetensors$", checkpoint.Saved[0]);
        Assert.True(File.Exists(checkpoint.Saved[^1]));
        Assert.Equal(model.Predict(x).ToArray(), Sequential.Load(checkpoint.Saved[^1]).Predict(x).ToArray());
    }

    [Fact]
    public void MissingAndCorruptFilesGiveClearErrors()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => Sequential.Load(Path.Combine(dir, "nope.safetensors")));
        Assert.Contains("nope.safetensors", missing.Message);

        string garbage = Path.Combine(dir, "garbage.safetensors");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        Assert.Contains("garbage.safetensors", Assert.Throws<InvalidDataException>(() => Sequential.Load(garbage)).Message);

        var model = new Sequential(1, new Dense(2, inputShape: 3));
        string weights = Path.Combine(dir, "weights.safetensors");
        model.SaveWeights(weights);
        Assert.Contains("LoadWeights", Assert.Throws<InvalidDataException>(() => Sequential.Load(weights)).Message);

        string tampered = Path.Combine(dir, "tampered.safetensors");
        SafeTensors.Write(tampered, model.Network.StateDict(), new Dictionary<string, string>
        {
            ["format"] = Sequential.FileFormat,
            ["format_version"] = "1",
            ["model_config"] = """{"class_name": "Sequential", "config": {"name": "m", "layers": [{"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "swish", "use_bias": true, "kernel_initializer": "zeros", "bias_initializer": "zeros", "input_shape": [3]}}]}}""",
        });
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(tampered));
        Assert.Contains("swish", e.Message);
        Assert.Contains("layer 0", e.Message);
    }

    [Fact]
    public void UserMistakesAreNamedInKerasTerms()
    {
        var act = Assert.Throws<ArgumentException>(() => new Dense(3, activation: "relu6"));
        Assert.Contains("relu6", act.Message);
        Assert.Contains("softmax", act.Message);

        var first = Assert.Throws<ArgumentException>(() => new Sequential(1, new Conv2D(8, 3), new Flatten()));
        Assert.Contains("inputShape", first.Message);
        Assert.Contains("conv2d", first.Message);

        var model = new Sequential(1, new Conv2D(32, (3, 3), inputShape: (64, 64, 3), activation: "relu"));
        var shape = Assert.Throws<ArgumentException>(() => model.Predict(Tensor.Zeros(2, 3, 64, 64)));
        Assert.Contains("(None, 64, 64, 3)", shape.Message);
        Assert.Contains("(2, 3, 64, 64)", shape.Message);

        var dense = Assert.Throws<ArgumentException>(() => model.Add(new Dense(10)));
        Assert.Contains("Flatten", dense.Message);
        Assert.Contains("(None, 62, 62, 32)", dense.Message);

        Assert.Contains("Compile", Assert.Throws<InvalidOperationException>(() => model.Fit(Tensor.Zeros(1, 64, 64, 3), Tensor.Zeros(1, 1))).Message);
        Assert.Contains("sigmoid_cross", Assert.Throws<ArgumentException>(() => model.Compile("adam", "sigmoid_cross")).Message);

        var mlp = new Sequential(1, new Dense(3, activation: "softmax", inputShape: 4));
        mlp.Compile("sgd", "categorical_crossentropy", ["accuracy"]);
        var y = Assert.Throws<ArgumentException>(() => mlp.Fit(Tensor.Zeros(5, 4), Tensor.Zeros(5, 2)));
        Assert.Contains("sparse_categorical_crossentropy", y.Message);
        Assert.Contains("(None, 3)", y.Message);
    }
}
