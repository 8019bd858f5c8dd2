using Backprop.Keras;

namespace Backprop.Tests.Keras;

/// <summary>Reading files built to Keras's published layouts (see <see cref="KerasFixtures"/>), and the errors for bad ones.</summary>
public sealed class KerasFileFormatTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("keras-files-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string PathOf(string name) => Path.Combine(dir, name);

    private static Tensor Inputs(int n)
    {
        var data = new float[n * 18];
        for (int i = 0; i < data.Length; i++) data[i] = MathF.Sin(i * 0.7f) * 2f;
        return Tensor.FromArray(data, n, 3, 3, 2);
    }

    private static void AssertMatchesReference(Sequential model)
    {
        var x = Inputs(4);
        var y = model.Predict(x).ToArray();
        var all = x.ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(KerasFixtures.Reference(all[(i * 18)..((i + 1) * 18)]), y[i], 1e-5f);
    }

    [Fact]
    public void LoadsAKeras3ArchiveAndPredictsAsKerasWould()
    {
        string path = PathOf("cnn.keras");
        KerasFixtures.WriteKeras(path, weights: KerasFixtures.Encode(KerasFixtures.Keras3Weights()));
        var model = Sequential.Load(path);
        Assert.Equal(["input_layer", "conv2d", "flatten", "dense"], model.Layers.Select(l => l.Name));
        Assert.Equal("relu", model.GetLayer("conv2d").ActivationName);
        AssertMatchesReference(model);
    }

    [Fact]
    public void LoadsAKeras2LegacyH5AndPredictsAsKerasWould()
    {
        string path = PathOf("cnn.h5");
        File.WriteAllBytes(path, KerasFixtures.Keras2File());
        var model = Sequential.Load(path);
        Assert.Equal(["conv2d_input", "conv2d", "flatten", "dense"], model.Layers.Select(l => l.Name));
        Assert.True(model.IsCompiled);   // from training_config
        Assert.Equal("mse", model.Loss);
        AssertMatchesReference(model);
    }

    [Fact]
    public void LoadWeightsReadsEveryKerasLayoutIntoABuiltModel()
    {
        string keras = PathOf("w.keras"), legacy = PathOf("w.h5");
        KerasFixtures.WriteKeras(keras, weights: KerasFixtures.Encode(KerasFixtures.Keras3Weights()));
        File.WriteAllBytes(legacy, KerasFixtures.Keras2File());
        foreach (string path in new[] { keras, legacy })
        {
            var model = new Sequential(1, new Conv2D(1, 2, activation: "relu", inputShape: (3, 3, 2)), new Flatten(), new Dense(1));
            model.LoadWeights(path);
            AssertMatchesReference(model);
        }
    }

    [Fact]
    public void ALoadedKerasModelFineTunes()
    {
        string path = PathOf("tune.keras");
        KerasFixtures.WriteKeras(path, weights: KerasFixtures.Encode(KerasFixtures.Keras3Weights()));
        var model = Sequential.Load(path);
        Assert.True(model.IsCompiled);   // the fixture's compile_config: adam, mse
        Assert.Equal("mse", model.Loss);
        model.Compile(new SGD(0.01), "mse");
        var x = Inputs(8);
        var target = Tensor.Zeros(8, 1);
        double before = model.Evaluate(x, target)[0];
        model.Fit(x, target, batchSize: 8, epochs: 5);
        Assert.True(model.Evaluate(x, target)[0] < before);
    }

    [Fact]
    public void AnUnknownLayerClassNamesTheClassAndTheFile()
    {
        string path = PathOf("lstm.keras");
        string config = KerasFixtures.Keras3Config.Replace("\"class_name\": \"Flatten\"", "\"class_name\": \"LSTM\"", StringComparison.Ordinal);
        KerasFixtures.WriteKeras(path, config, KerasFixtures.Encode(KerasFixtures.Keras3Weights()));
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("LSTM", e.Message);
    }

    [Fact]
    public void SettingsBackpropCannotHonourAreRefusedByName()
    {
        string path = PathOf("first.keras");
        string config = KerasFixtures.Keras3Config.Replace("\"channels_last\", \"dilation_rate\"", "\"channels_first\", \"dilation_rate\"", StringComparison.Ordinal);
        KerasFixtures.WriteKeras(path, config, KerasFixtures.Encode(KerasFixtures.Keras3Weights()));
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("channels_first", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingWeightsNameTheFileAndTheLayer()
    {
        string noMember = PathOf("nomember.keras");
        KerasFixtures.WriteKeras(noMember, weights: null);
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(noMember));
        Assert.Contains(noMember, e.Message);
        Assert.Contains("model.weights.h5", e.Message);

        string noDense = PathOf("nodense.keras");
        KerasFixtures.WriteKeras(noDense, weights: KerasFixtures.Encode(KerasFixtures.Keras3Weights(withDense: false)));
        e = Assert.Throws<InvalidDataException>(() => Sequential.Load(noDense));
        Assert.Contains(noDense, e.Message);
        Assert.Contains("layers/dense/vars", e.Message);

        string legacy = PathOf("nokernel.h5");
        File.WriteAllBytes(legacy, KerasFixtures.Keras2File(withDenseKernel: false));
        e = Assert.Throws<InvalidDataException>(() => Sequential.Load(legacy));
        Assert.Contains(legacy, e.Message);
        Assert.Contains("dense/kernel:0", e.Message);
    }

    [Fact]
    public void TruncatedAndCorruptFilesNameTheFile()
    {
        string good = PathOf("good.keras");
        KerasFixtures.WriteKeras(good, weights: KerasFixtures.Encode(KerasFixtures.Keras3Weights()));
        byte[] bytes = File.ReadAllBytes(good);
        foreach (int cut in new[] { 0, 10, bytes.Length / 2, bytes.Length - 30 })
        {
            string path = PathOf($"cut{cut}.keras");
            File.WriteAllBytes(path, bytes[..cut]);
            var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
            Assert.Contains(path, e.Message);
        }
        string garbage = PathOf("garbage.keras");
        File.WriteAllText(garbage, "this is not a zip archive at all, just text that goes on for a while");
        Assert.Contains(garbage, Assert.Throws<InvalidDataException>(() => Sequential.Load(garbage)).Message);

        byte[] h5 = KerasFixtures.Keras2File();
        foreach (int cut in new[] { 0, 20, h5.Length / 2, h5.Length - 8 })
        {
            string path = PathOf($"cut{cut}.h5");
            File.WriteAllBytes(path, h5[..cut]);
            var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
            Assert.Contains(path, e.Message);
        }
    }

    [Fact]
    public void UnknownExtensionsAreRefusedWithTheSupportedList()
    {
        var model = new Sequential(1, new Dense(1, inputShape: 2));
        var e = Assert.Throws<ArgumentException>(() => model.Save(PathOf("model.pt")));
        Assert.Contains(".keras", e.Message);
        Assert.Contains(".safetensors", e.Message);
        Assert.Throws<ArgumentException>(() => model.SaveWeights(PathOf("w.bin")));
        File.WriteAllText(PathOf("model.pt"), "x");
        Assert.Contains(".h5", Assert.Throws<ArgumentException>(() => Sequential.Load(PathOf("model.pt"))).Message);
        Assert.False(File.Exists(PathOf("w.bin")));
    }
}
