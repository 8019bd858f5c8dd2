using Backprop.Keras;

namespace Backprop.Tests.Keras;

/// <summary>The functional API: the seed's model written both ways, a residual Add, an Inception Concatenate, errors.</summary>
public class FunctionalModelTests
{
    private static Sequential SeedSequential(ulong seed) => new(seed,
        new Conv2D(32, (3, 3), inputShape: (64, 64, 3), activation: "relu"),
        new MaxPooling2D(2),
        new Flatten(),
        new Dense(128, activation: "relu"),
        new Dense(1, activation: "sigmoid"));

    private static Model SeedFunctional(ulong seed)
    {
        var inputs = new Input((64, 64, 3), seed);
        var x = new Conv2D(32, (3, 3), activation: "relu").Apply(inputs);
        x = new MaxPooling2D(2).Apply(x);
        x = new Flatten().Apply(x);
        x = new Dense(128, activation: "relu").Apply(x);
        var outputs = new Dense(1, activation: "sigmoid").Apply(x);
        return new Model(inputs, outputs);
    }

    private static string[] Lines(string summary) => summary.Split('\n');

    [Fact]
    public void SeedModelWrittenFunctionallyGivesTheSequentialSummaryWithAnInputRow()
    {
        string sequential = SeedSequential(3).Summary(), functional = SeedFunctional(3).Summary();
        Assert.Contains("Total params: 3,937,409\n", functional);
        Assert.Contains(" conv2d (Conv2D)             (None, 62, 62, 32)        896\n", functional);
        Assert.StartsWith("Model: \"model\"\n", functional);
        // Keras's functional summary: the same table with the input layer's row (and its blank line) first.
        var f = Lines(functional).ToList();
        int input = f.IndexOf(" input_1 (InputLayer)        [(None, 64, 64, 3)]       0");
        Assert.True(input > 0, functional);
        Assert.Equal("", f[input + 1]);
        f.RemoveRange(input, 2);
        Assert.Equal(Lines(sequential)[1..], f.Skip(1));
    }

    [Fact]
    public void SeedModelTrainsToBitIdenticalWeightsBothWays()
    {
        var g = new Generator(11);
        var x = Tensor.Rand(g, 24, 64, 64, 3);
        var y = Tensor.FromArray([.. Enumerable.Range(0, 24).Select(i => (float)(i % 2))], 24, 1);
        var sequential = SeedSequential(5);
        var functional = SeedFunctional(5);
        var initial = sequential.GetWeights().Select(w => w.ToArray()).ToList();
        sequential.Compile("adam", "binary_crossentropy", ["accuracy"]);
        functional.Compile("adam", "binary_crossentropy", ["accuracy"]);
        var hs = sequential.Fit(x, y, batchSize: 8, epochs: 2, validationSplit: 0.25);
        var hf = functional.Fit(x, y, batchSize: 8, epochs: 2, validationSplit: 0.25);

        var ws = sequential.GetWeights();
        var wf = functional.GetWeights();
        Assert.Equal(ws.Count, wf.Count);
        for (int i = 0; i < ws.Count; i++)
        {
            Assert.Equal(ws[i].Shape, wf[i].Shape);
            Assert.True(ws[i].ToArray().AsSpan().SequenceEqual(wf[i].ToArray()), $"weight {i} differs");
        }
        Assert.False(initial[0].AsSpan().SequenceEqual(ws[0].ToArray()), "training did not change the conv kernel");
        Assert.Equal(hs["loss"], hf["loss"]);
        Assert.Equal(hs["val_loss"], hf["val_loss"]);
        Assert.Equal(sequential.Predict(x).ToArray(), functional.Predict(x).ToArray());
    }

    [Fact]
    public void ResidualAddSumsBranchesAndSummaryShowsConnections()
    {
        var inputs = new Input((8, 8, 4), 21UL);
        var h = new Conv2D(4, 3, padding: "same", activation: "relu").Apply(inputs);
        h = new Conv2D(4, 3, padding: "same").Apply(h);
        var sum = new Add().Apply(inputs, h);
        var outputs = new Dense(3, activation: "softmax").Apply(new Flatten().Apply(sum));
        var model = new Model(inputs, outputs, "resnet_block");

        var x = Tensor.Randn(new Generator(2), 5, 8, 8, 4);
        var expected = x.ToArray().Zip(new Model(inputs, h).Predict(x).ToArray(), (a, b) => a + b).ToArray();
        Assert.Equal(expected, new Model(inputs, sum).Predict(x).ToArray());

        var s = Lines(model.Summary());
        Assert.Equal(new string('_', 98), s[1]);
        Assert.Equal(" Layer (type)                   Output Shape         Param #     Connected to", s[2]);
        Assert.Contains(" input_1 (InputLayer)           [(None, 8, 8, 4)]    0           []", s);
        Assert.Contains(" conv2d (Conv2D)                (None, 8, 8, 4)      148         ['input_1[0][0]']", s);
        int add = Array.IndexOf(s, " add (Add)                      (None, 8, 8, 4)      0           ['input_1[0][0]',");
        Assert.True(add > 0, model.Summary());
        Assert.Equal(new string(' ', 66) + "'conv2d_1[0][0]']", s[add + 1]);
        Assert.Equal(["input_1", "conv2d", "conv2d_1", "add", "flatten", "dense"], model.Layers.Select(l => l.Name));

        model.Compile("adam", "sparse_categorical_crossentropy", ["accuracy"]);
        var before = model.GetWeights().Select(w => w.ToArray()).ToList();
        model.Fit(x, [0, 1, 2, 0, 1], batchSize: 5, epochs: 1);
        var after = model.GetWeights();
        for (int i = 0; i < after.Count; i++)
            Assert.False(before[i].AsSpan().SequenceEqual(after[i].ToArray()), $"weight {i} did not train");
    }

    [Fact]
    public void InceptionConcatenateJoinsChannelsAndPassesGradientsToEveryBranch()
    {
        var inputs = new Input((6, 6, 3), 8UL);
        var b1 = new Conv2D(2, 1).Apply(inputs);
        var b3 = new Conv2D(3, 3, padding: "same").Apply(inputs);
        var b5 = new Conv2D(1, 5, padding: "same").Apply(inputs);
        var pool = new AveragePooling2D(3, strides: 1, padding: "same").Apply(inputs);
        var joined = new Concatenate().Apply(b1, b3, b5, pool);
        Assert.Equal(new KerasShape(6, 6, 9), joined.Shape);
        var model = new Model(inputs, joined, "inception");

        // Channels-last: each pixel holds branch 1's 2 channels, then 3, 1 and the pooled 3.
        var x = Tensor.Randn(new Generator(4), 2, 6, 6, 3);
        float[] all = model.Predict(x).ToArray();
        var parts = new[] { b1, b3, b5, pool }.Select(t => (t.Shape[2], new Model(inputs, t).Predict(x).ToArray())).ToList();
        int at = 0;
        for (int p = 0; p < 2 * 6 * 6; p++)
            foreach (var (c, values) in parts)
                for (int k = 0; k < c; k++) Assert.Equal(values[p * c + k], all[at++]);

        // Central differences through the join, for the input and every branch's weights.
        var xs = Tensor.Randn(new Generator(5), 2, 3, 6, 6);
        xs.RequiresGrad = true;
        var weights = model.Network.Parameters().ToArray();
        Assert.Equal(6, weights.Length);
        GradientCheck.Check(t => model.Network.Forward(t[0]), [xs, .. weights], label: "inception concat", step: 1e-2, threshold: 2e-2);
        foreach (var w in weights) Assert.Contains(w.Grad!.ToArray(), v => v != 0);

        var flat = new Concatenate(axis: 1).Apply(new Flatten().Apply(b1), new Flatten().Apply(b5));
        Assert.Equal(new KerasShape(6 * 6 * 3), flat.Shape);
    }

    [Fact]
    public void LayerAppliedToAWrongShapeNamesTheLayerAndItsInput()
    {
        var inputs = new Input(10, 1UL);
        var e = Assert.Throws<ArgumentException>(() => new Conv2D(4, 3).Apply(inputs));
        Assert.Contains("'conv2d' (Conv2D)", e.Message);
        Assert.Contains("(None, 10)", e.Message);
        Assert.Contains("'input_1'", e.Message);

        var image = new Input((8, 8, 2), 1UL);
        var a = new Conv2D(3, 3).Apply(image);
        var add = Assert.Throws<ArgumentException>(() => new Add().Apply(image, a));
        Assert.Contains("'add' (Add)", add.Message);
        Assert.Contains("'conv2d' (None, 6, 6, 3)", add.Message);
        var cat = Assert.Throws<ArgumentException>(() => new Concatenate().Apply(image, a));
        Assert.Contains("every other dimension", cat.Message);
        // The failed layer keeps no name: a corrected call names it as if first.
        Assert.Equal("add", new Add().Apply(a, new Conv2D(3, 3).Apply(image)).Layer.Name);
    }

    [Fact]
    public void ModelWhoseOutputDoesNotDependOnItsInputIsRefused()
    {
        var first = new Input(4, 1UL);
        var second = new Input(4, 2UL);
        var outputs = new Dense(2).Apply(second);
        var e = Assert.Throws<ArgumentException>(() => new Model(first, outputs));
        Assert.Contains("does not depend on input 'input_1'", e.Message);
        Assert.Contains("'dense' (Dense)", e.Message);
        Assert.Throws<ArgumentException>(() => new Model(first, first));
        Assert.Throws<ArgumentException>(() => new Model(outputs, outputs));
        var mixed = Assert.Throws<ArgumentException>(() => new Add().Apply(new Dense(4).Apply(first), second));
        Assert.Contains("several inputs are not supported", mixed.Message);
    }

    [Fact]
    public void MergeLayersAndReusedLayersGiveClearErrors()
    {
        var seq = Assert.Throws<ArgumentException>(() => new Sequential(1, new Dense(3, inputShape: 4), new Concatenate()));
        Assert.Contains("functional API", seq.Message);
        var inputs = new Input(4, 1UL);
        var one = Assert.Throws<ArgumentException>(() => new Add().Apply(inputs));
        Assert.Contains("two or more", one.Message);
        var dense = new Dense(3);
        var h = dense.Apply(inputs);
        var reuse = Assert.Throws<ArgumentException>(() => dense.Apply(h));   // built on (None, 4), h is (None, 3)
        Assert.Contains("is shared: it was built on (None, 4)", reuse.Message);
        var inSequential = new Dense(4);
        _ = new Sequential(1, new Dense(4, inputShape: 4), inSequential);
        var elsewhere = Assert.Throws<ArgumentException>(() => inSequential.Apply(inputs));
        Assert.Contains("another model", elsewhere.Message);
    }
}
