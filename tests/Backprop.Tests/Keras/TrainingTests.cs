using Backprop.Keras;

namespace Backprop.Tests.Keras;

public class TrainingTests
{
    /// <summary>8x8 grayscale images: class 0 a horizontal bar, class 1 a vertical bar, at random places, with noise.</summary>
    internal static (Tensor X, int[] Labels) Bars(int n, ulong seed)
    {
        var g = new Generator(seed);
        var x = Tensor.Zeros(n, 8, 8, 1);
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 2;
            int at = 1 + g.NextInt(6);
            for (int j = 0; j < 8; j++)
            {
                if (labels[i] == 0) x[i, at, j, 0] = 1; else x[i, j, at, 0] = 1;
            }
            for (int r = 0; r < 8; r++)
                for (int c = 0; c < 8; c++) x[i, r, c, 0] += 0.2f * g.NextFloat();
        }
        return (x, labels);
    }

    private static Tensor OneHot(int[] labels, int classes)
    {
        var t = Tensor.Zeros(labels.Length, classes);
        for (int i = 0; i < labels.Length; i++) t[i, labels[i]] = 1;
        return t;
    }

    [Fact]
    public void ConvNetLearnsBarsWithinSeconds()
    {
        var (x, labels) = Bars(96, 1);
        var model = new Sequential(7,
            new Conv2D(4, 3, padding: "same", activation: "relu", inputShape: (8, 8, 1)),
            new MaxPooling2D(2),
            new Flatten(),
            new Dense(2, activation: "softmax"));
        model.Compile(new Adam(learningRate: 0.01), "categorical_crossentropy", ["accuracy"]);
        var history = model.Fit(x, OneHot(labels, 2), batchSize: 16, epochs: 12);
        Assert.Equal(12, history.Loss.Count);
        Assert.True(history.Loss[^1] < 0.5 * history.Loss[0], $"loss {history.Loss[0]} → {history.Loss[^1]}");
        Assert.True(history.Accuracy[^1] >= 0.9, $"accuracy {history.Accuracy[^1]}");
        var (xt, lt) = Bars(40, 2);
        var eval = model.Evaluate(xt, OneHot(lt, 2));   // [loss, accuracy], as Keras's list
        Assert.Equal(2, eval.Count);
        Assert.True(eval[1] >= 0.9, $"test accuracy {eval[1]}");
        Assert.Equal(eval[1], model.Evaluate(xt, OneHot(lt, 2), returnDict: true)["accuracy"]);
        var p = model.Predict(xt);
        Assert.Equal(new Shape(40, 2), p.Shape);
        Assert.Equal(1f, p[0, 0] + p[0, 1], 5);
    }

    [Fact]
    public void MlpLearnsWithBinaryCrossEntropyAndSparseLabels()
    {
        var g = new Generator(3);
        int n = 64;
        var x = Tensor.Randn(g, n, 2);
        var y = Tensor.Zeros(n, 1);
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = (int)(y[i, 0] = x[i, 0] + x[i, 1] > 0 ? 1 : 0);

        var binary = new Sequential(4, new Dense(8, activation: "tanh", inputShape: 2), new Dense(1, activation: "sigmoid"));
        binary.Compile(new RMSprop(0.02), "binary_crossentropy", ["accuracy"]);
        var h = binary.Fit(x, y, batchSize: 8, epochs: 15);
        Assert.True(h.Accuracy[^1] >= 0.9, $"binary accuracy {h.Accuracy[^1]}");
        Assert.True(h.Loss[^1] < h.Loss[0]);

        var sparse = new Sequential(5, new Dense(8, activation: "relu", inputShape: 2), new BatchNormalization(), new Dense(2, activation: "softmax"));
        sparse.Compile(new SGD(0.1, momentum: 0.9), "sparse_categorical_crossentropy", ["accuracy"]);
        var hs = sparse.Fit(x, labels, batchSize: 8, epochs: 15);
        Assert.True(hs.Accuracy[^1] >= 0.9, $"sparse accuracy {hs.Accuracy[^1]}");
    }

    [Fact]
    public void OptimizersHaveKerasDefaults()
    {
        var ps = new Backprop.Nn.Linear(2, 2).Parameters().ToList();
        Assert.Equal(0.01f, KerasOptimizer.FromName("sgd").Create(ps).LearningRate);
        var adam = (Backprop.Optim.Adam)KerasOptimizer.FromName("adam").Create(ps);
        Assert.Equal((0.001f, 0.9f, 0.999f, 1e-7f, Backprop.Optim.AdamStyle.Caffe), (adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon, adam.Style));
        Assert.Equal(0.001f, KerasOptimizer.FromName("rmsprop").Create(ps).LearningRate);
        var adamw = (Backprop.Optim.AdamW)KerasOptimizer.FromName("adamw").Create(ps);
        Assert.Equal((0.001f, 0.004f, 1e-7f, Backprop.Optim.AdamStyle.Caffe), (adamw.LearningRate, adamw.WeightDecay, adamw.Epsilon, adamw.Style));
        var adadelta = (Backprop.Optim.AdaDelta)KerasOptimizer.FromName("adadelta").Create(ps);
        Assert.Equal((0.001f, 0.95f, 1e-7f), (adadelta.LearningRate, adadelta.Rho, adadelta.Epsilon));
        var nadam = (Backprop.Optim.NAdam)KerasOptimizer.FromName("nadam").Create(ps);
        Assert.Equal((0.001f, 1e-7f, 1f), (nadam.LearningRate, nadam.Epsilon, nadam.MomentumDecay));
        Assert.Equal(0.001f, KerasOptimizer.FromName("adagrad").Create(ps).LearningRate);
        Assert.Equal(0.001f, KerasOptimizer.FromName("adamax").Create(ps).LearningRate);
        Assert.Throws<ArgumentException>(() => KerasOptimizer.FromName("lion"));
    }

    [Fact]
    public void ValidationSplitTakesTheLastFraction()
    {
        var g = new Generator(9);
        var x = Tensor.Randn(g, 10, 3);
        var y = Tensor.Rand(g, 10, 1);
        var model = new Sequential(6, new Dense(1, inputShape: 3));
        model.Compile(new SGD(0), "mse");   // learning rate 0: the weights stay, so val_loss is a plain evaluation
        var h = model.Fit(x, y, batchSize: 4, epochs: 2, validationSplit: 0.3);
        // Keras: split_at = floor(10 · (1 − 0.3)) = 7, validation = samples 7, 8, 9
        var expected = model.Evaluate(x.Slice(7, 10), y.Slice(7, 10))[0];
        Assert.Equal(expected, h.ValLoss[0], 6);
        Assert.Equal(expected, h.ValLoss[1], 6);
        var train = model.Evaluate(x.Slice(0, 7), y.Slice(0, 7))[0];
        Assert.Equal(train, h.Loss[0], 5);
        Assert.NotEqual(model.Evaluate(x.Slice(0, 3), y.Slice(0, 3))[0], h.ValLoss[0], 6);
        Assert.Equal(["loss", "val_loss"], h.Keys);
    }

    [Fact]
    public void EarlyStoppingStopsWhenTheMonitorStalls()
    {
        var x = Tensor.Randn(new Generator(1), 8, 2);
        var y = Tensor.Rand(new Generator(2), 8, 1);
        var model = new Sequential(6, new Dense(1, inputShape: 2));
        model.Compile(new SGD(0), "mse");   // the loss never improves after the first epoch
        var stop = new EarlyStopping(monitor: "loss", patience: 2);
        var h = model.Fit(x, y, epochs: 20, callbacks: [stop]);
        Assert.Equal(3, h.Epochs.Count);    // epoch 0 sets the best; epochs 1 and 2 wait; stop after 2
        Assert.Equal(2, stop.StoppedEpoch);
        Assert.True(model.StopTraining);

        var missing = new EarlyStopping();   // val_loss without validation data: a clear error
        var e = Assert.Throws<InvalidOperationException>(() => model.Fit(x, y, epochs: 2, callbacks: [missing]));
        Assert.Contains("val_loss", e.Message);
        Assert.Contains("validationSplit", e.Message);
    }

    [Fact]
    public void RestoreBestWeightsAndCsvLoggerAndProgress()
    {
        var (x, labels) = Bars(32, 4);
        var model = new Sequential(8, new Flatten(inputShape: (8, 8, 1)), new Dense(2, activation: "softmax"));
        model.Compile(new Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"]);
        string csv = Path.Combine(Path.GetTempPath(), $"keras-log-{Environment.ProcessId}-{Guid.NewGuid():N}.csv");
        var records = new List<EpochProgress>();
        try
        {
            var h = model.Fit(x, labels, batchSize: 8, epochs: 3, validationSplit: 0.25,
                callbacks: [new CsvLogger(csv), new EarlyStopping("val_accuracy", restoreBestWeights: true, patience: 5)],
                progress: new SyncProgress(records.Add));
            var lines = File.ReadAllLines(csv);
            Assert.Equal("epoch,accuracy,loss,val_accuracy,val_loss", lines[0]);
            Assert.Equal(4, lines.Length);
            Assert.StartsWith("0,", lines[1]);
            Assert.Equal(h.Loss[2], double.Parse(lines[3].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(csv);
        }
        Assert.Equal(3 * (1 + 3 + 1), records.Count);   // per epoch: begin, 3 batches of 8 out of 24, end
        Assert.Equal("Epoch 1/3", KerasProgressFormatter.Format(records[0]));
        string end = KerasProgressFormatter.Format(records[4]);
        Assert.StartsWith("3/3 [==============================] - ", end);
        Assert.Matches(@"^3/3 \[=+\] - \d+s \d+(ms|us|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$", end);
        Assert.StartsWith("1/3 [=========>....................] - ETA: ", KerasProgressFormatter.Format(records[1]));
        Assert.Equal("12/32 [==========>...................]", KerasProgressFormatter.Bar(12, 32));
    }

    private sealed class SyncProgress(Action<EpochProgress> report) : IProgress<EpochProgress>
    {
        public void Report(EpochProgress value) => report(value);
    }
}
