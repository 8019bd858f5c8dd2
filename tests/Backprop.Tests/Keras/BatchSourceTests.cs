using Backprop.Keras;

namespace Backprop.Tests.Keras;

public class BatchSourceTests
{
    [Theory]
    [InlineData("binary")]
    [InlineData("categorical")]
    [InlineData("sparse")]
    public void FlowFromDirectoryGivesLabelsMatchingTheFolders(string classMode)
    {
        using var folder = new ImageFolderFixture();
        var source = new ImageDataGenerator(rescale: 1 / 255f).FlowFromDirectory(folder.Root, targetSize: (8, 6), batchSize: 6, classMode: classMode, seed: 3);
        Assert.Equal(20, source.Samples);
        Assert.Equal(4, source.BatchesPerEpoch);
        Assert.Equal(new Dictionary<string, int> { ["cats"] = 0, ["dogs"] = 1 }, source.ClassIndices);
        var seen = new List<int>();
        foreach (var batch in source.Batches(0))
        {
            int b = batch.X.Shape[0];
            Assert.Equal([b, 8, 6, 3], batch.X.Shape.ToArray());
            int[] labels = classMode switch
            {
                "sparse" => batch.Labels!,
                "binary" => Array.ConvertAll(batch.Y!.ToArray(), v => (int)v),
                _ => batch.Y!.ArgMax(1),
            };
            if (classMode == "binary") Assert.Equal([b, 1], batch.Y!.Shape.ToArray());
            if (classMode == "categorical") Assert.Equal([b, 2], batch.Y!.Shape.ToArray());
            var x = batch.X.ToArray();
            for (int i = 0; i < b; i++)
            {
                // cats are dark (< 0.5 after rescale), dogs bright: the label must be the folder's.
                double mean = x.Skip(i * 8 * 6 * 3).Take(8 * 6 * 3).Average();
                Assert.Equal(labels[i], mean > 0.5 ? 1 : 0);
                Assert.InRange(mean, 0, 1);
            }
            seen.AddRange(labels);
        }
        Assert.Equal(new[] { 10, 10 }, seen.GroupBy(l => l).OrderBy(g => g.Key).Select(g => g.Count()));
    }

    [Fact]
    public void ShufflingIsFixedBySeedAndChangesEachPass()
    {
        using var folder = new ImageFolderFixture();
        int[] Order(ulong seed, int pass) => new ImageDataGenerator().FlowFromDirectory(folder.Root, targetSize: (4, 4), batchSize: 20, classMode: "sparse", seed: seed)
            .Batches(pass).Single().Labels!;
        Assert.Equal(Order(5, 0), Order(5, 0));
        Assert.NotEqual(Order(5, 0), Order(5, 1));
        Assert.NotEqual(Order(5, 0), Order(6, 0));
        var unshuffled = new ImageDataGenerator().FlowFromDirectory(folder.Root, targetSize: (4, 4), batchSize: 20, classMode: "sparse", shuffle: false).Batches(0).Single();
        Assert.Equal(Enumerable.Repeat(0, 10).Concat(Enumerable.Repeat(1, 10)), unshuffled.Labels!);
    }

    [Fact]
    public void ImageDatasetFromDirectorySplitsDisjointly()
    {
        using var folder = new ImageFolderFixture();
        var training = KerasUtils.ImageDatasetFromDirectory(folder.Root, imageSize: (8, 8), batchSize: 4, seed: 9, validationSplit: 0.25, subset: "training");
        var validation = KerasUtils.ImageDatasetFromDirectory(folder.Root, imageSize: (8, 8), batchSize: 4, seed: 9, validationSplit: 0.25, subset: "validation");
        Assert.Equal(15, training.Samples);
        Assert.Equal(5, validation.Samples);
        Assert.Empty(training.FilePaths.Intersect(validation.FilePaths));
        var first = training.Batches(0).First();
        Assert.Equal([4, 8, 8, 3], first.X.Shape.ToArray());
        Assert.NotNull(first.Labels);   // label_mode "int"
        Assert.True(first.X.ToArray().Max() > 1);   // 0..255 until a Rescaling
        Assert.Throws<ArgumentException>(() => KerasUtils.ImageDatasetFromDirectory(folder.Root, validationSplit: 0.25, subset: "training"));
        Assert.Throws<ArgumentException>(() => KerasUtils.ImageDatasetFromDirectory(folder.Root, labelMode: "nonsense"));
    }

    [Fact]
    public void FitOnGeneratorLearnsAndValidates()
    {
        using var train = new ImageFolderFixture(12, seed: 1);
        using var test = new ImageFolderFixture(4, seed: 2);
        var generator = new ImageDataGenerator(rescale: 1 / 255f, shearRange: 0.2f, zoomRange: 0.2f, horizontalFlip: true);
        var trainingSet = generator.FlowFromDirectory(train.Root, targetSize: (8, 8), batchSize: 8, classMode: "binary", seed: 1);
        var testSet = new ImageDataGenerator(rescale: 1 / 255f).FlowFromDirectory(test.Root, targetSize: (8, 8), batchSize: 8, classMode: "binary", seed: 2);
        var model = new Sequential(3,
            new Conv2D(4, (3, 3), inputShape: (8, 8, 3), activation: "relu"),
            new MaxPooling2D(2),
            new Flatten(),
            new Dense(1, activation: "sigmoid"));
        model.Compile(new Adam(0.01), "binary_crossentropy", ["accuracy"]);
        var history = model.Fit(trainingSet, epochs: 20, validationData: testSet, verbose: 0);
        Assert.Equal(20, history.Loss.Count);
        Assert.True(history.Loss[^1] < history.Loss[0] * 0.5, $"loss {string.Join(", ", history.Loss)} val {string.Join(", ", history.ValAccuracy)} {history.Loss[0]} -> {history.Loss[^1]}");
        Assert.Equal(20, history.ValLoss.Count);
        Assert.True(history.ValAccuracy[^1] >= 0.75, $"val_accuracy {history.ValAccuracy[^1]}");
    }

    [Fact]
    public void StepsPerEpochContinuesAcrossPasses()
    {
        using var folder = new ImageFolderFixture(5);
        var source = new ImageDataGenerator(rescale: 1 / 255f).FlowFromDirectory(folder.Root, targetSize: (4, 4), batchSize: 4, classMode: "categorical", seed: 1);
        var model = new Sequential(1, new Flatten(inputShape: (4, 4, 3)), new Dense(2, activation: "softmax"));
        model.Compile("sgd", "categorical_crossentropy");
        var batches = new BatchCounter();
        model.Fit(source, epochs: 2, stepsPerEpoch: 7, callbacks: [batches], verbose: 0);   // 3 batches a pass: 14 steps span 5 passes
        Assert.Equal(14, batches.Count);
    }

    [Fact]
    public void DecodingRunsAheadOfTheTrainingStep()
    {
        using var folder = new ImageFolderFixture(8);
        var source = new ImageDataGenerator(rescale: 1 / 255f, horizontalFlip: true).FlowFromDirectory(folder.Root, targetSize: (4, 4), batchSize: 4, classMode: "sparse", seed: 1);
        var events = new List<string>();
        using var decodedNext = new ManualResetEventSlim();
        source.Reader.BatchDecoded = k =>
        {
            lock (events) events.Add($"decoded {k}");
            if (k == 1) decodedNext.Set();
        };
        var model = new Sequential(1, new Flatten(inputShape: (4, 4, 3)), new Dense(2, activation: "softmax"));
        model.Compile("sgd", "sparse_categorical_crossentropy");
        // Step 0 waits, inside itself, for batch 1 to be decoded: only a reader running ahead on another thread can.
        var probe = new BatchProbe(step =>
        {
            if (step == 0) Assert.True(decodedNext.Wait(TimeSpan.FromSeconds(30)), "batch 1 was not decoded while step 0 ran");
            lock (events) events.Add($"step {step}");
        });
        model.Fit(source, epochs: 1, callbacks: [probe], verbose: 0);
        Assert.True(events.IndexOf("decoded 1") < events.IndexOf("step 0"));
        Assert.Contains("step 3", events);
    }

    [Fact]
    public void AnUndecodableFileIsNamedInTheError()
    {
        using var folder = new ImageFolderFixture(4, corrupt: true);
        var source = new ImageDataGenerator().FlowFromDirectory(folder.Root, targetSize: (4, 4), batchSize: 3, classMode: "binary", seed: 1);
        var model = new Sequential(1, new Flatten(inputShape: (4, 4, 3)), new Dense(1, activation: "sigmoid"));
        model.Compile("sgd", "binary_crossentropy");
        var e = Assert.Throws<InvalidDataException>(() => model.Fit(source, epochs: 1, verbose: 0));
        Assert.Contains("broken.png", e.Message);
    }

    private sealed class BatchCounter : Callback
    {
        public int Count;

        public override void OnBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) => Count++;
    }

    private sealed class BatchProbe(Action<int> onBatchEnd) : Callback
    {
        public override void OnBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) => onBatchEnd(batch);
    }
}
