using System.Text.RegularExpressions;
using Backprop.Keras;

namespace Backprop.Tests.Keras;

public class WeightsAndVerboseTests
{
    [Theory]
    [InlineData("sparse_categorical_crossentropy", true)]
    [InlineData("sparse_categorical_crossentropy", false)]
    [InlineData("categorical_crossentropy", true)]
    [InlineData("binary_crossentropy", true)]
    [InlineData("binary_crossentropy", false)]
    [InlineData("mse", false)]
    [InlineData("mae", false)]
    public void WeightedLossIsTheWeightedSumOverTheBatchSize(string loss, bool fromLogits)
    {
        var g = new Generator(4);
        int b = 5, c = loss.StartsWith("binary") || loss is "mse" or "mae" ? 3 : 4;
        var output = Tensor.Zeros(b, c);
        g.FillUniform(output.AsSpan(), 0.05f, 0.95f);
        int[] labels = [0, 3 % c, 1, 2, 1];
        var y = Tensor.Zeros(b, c);
        for (int i = 0; i < b; i++)
            if (loss.Contains("categorical")) y[i, labels[i]] = 1;
            else for (int j = 0; j < c; j++) y[i, j] = (i + j) % 2;
        int[]? l = loss.StartsWith("sparse") ? labels : null;
        float[] w = [0.5f, 2f, 0f, 1f, 3f];
        double expected = 0;
        for (int i = 0; i < b; i++)
            expected += w[i] * Losses.Compute(loss, output.Slice(i, i + 1), l is null ? y.Slice(i, i + 1) : null, l is null ? null : [l[i]], fromLogits).Item();
        expected /= b;
        float weighted = Losses.ComputeWeighted(loss, output, l is null ? y : null, l, fromLogits, Tensor.FromArray(w, b)).Item();
        Assert.Equal(expected, weighted, 5);
        float ones = Losses.ComputeWeighted(loss, output, l is null ? y : null, l, fromLogits, Tensor.FromArray([1f, 1, 1, 1, 1], b)).Item();
        Assert.Equal(Losses.Compute(loss, output, l is null ? y : null, l, fromLogits).Item(), ones, 5);
    }

    [Fact]
    public void FitAppliesSampleAndClassWeightsToTheBatchLoss()
    {
        var (x, labels) = TrainingTests.Bars(6, 2);
        Sequential Model()
        {
            var m = new Sequential(5, new Flatten(inputShape: (8, 8, 1)), new Dense(2, activation: "softmax"));
            m.Compile("sgd", "sparse_categorical_crossentropy");
            return m;
        }
        // Each sample's loss at the initial weights, one at a time.
        var losses = Enumerable.Range(0, 6).Select(i => Model().Evaluate(x.Slice(i, i + 1), [labels[i]])[0]).ToArray();
        float[] sw = [1, 0, 2, 0.5f, 3, 1];
        var classWeight = new Dictionary<int, float> { [0] = 4, [1] = 0.25f };
        // One batch of all six: the epoch's loss is that batch's loss before the update.
        double fitted = Model().Fit(x, labels, batchSize: 6, shuffle: false, sampleWeight: sw, classWeight: classWeight, verbose: 0).Loss[0];
        double expected = Enumerable.Range(0, 6).Sum(i => losses[i] * sw[i] * classWeight[labels[i]]) / 6;
        Assert.Equal(expected, fitted, 4);
        double plain = Model().Fit(x, labels, batchSize: 6, shuffle: false, verbose: 0).Loss[0];
        Assert.Equal(losses.Average(), plain, 4);
    }

    [Fact]
    public void ZeroWeightsLeaveTheWeightsUnchanged()
    {
        var (x, labels) = TrainingTests.Bars(4, 3);
        var m = new Sequential(5, new Flatten(inputShape: (8, 8, 1)), new Dense(2, activation: "softmax"));
        m.Compile("sgd", "sparse_categorical_crossentropy");
        var before = m.Network.Parameters().Select(p => p.ToArray()).ToList();
        m.Fit(x, labels, batchSize: 4, sampleWeight: [0, 0, 0, 0], verbose: 0);
        Assert.Equal(before, m.Network.Parameters().Select(p => p.ToArray()).ToList());
    }

    private static (Sequential Model, StringWriter Output) Printing()
    {
        var m = new Sequential(5, new Flatten(inputShape: (8, 8, 1)), new Dense(2, activation: "softmax"));
        m.Compile("adam", "sparse_categorical_crossentropy", ["accuracy"]);
        var output = new StringWriter();
        m.Output = output;
        return (m, output);
    }

    [Fact]
    public void FitPrintsKerasProgressByDefault()
    {
        var (x, labels) = TrainingTests.Bars(10, 4);
        var (m, output) = Printing();
        m.Fit(x, labels, batchSize: 4, epochs: 2, validationSplit: 0.2);
        var lines = output.ToString().Split('\n');
        Assert.Equal("Epoch 1/2", lines[0].TrimEnd('\r'));
        // The bar is redrawn in place with '\r'; the epoch's last drawing carries the timing and val_ logs.
        var last = lines[1].Split('\r')[^1];
        Assert.Matches(new Regex(@"^2/2 \[=+\] - \d+s \d+(ms|us|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}\s*$"), last);
        Assert.Contains("Epoch 2/2", output.ToString());
    }

    [Fact]
    public void VerboseTwoPrintsOneLinePerEpochAndZeroNothing()
    {
        var (x, labels) = TrainingTests.Bars(8, 4);
        var (m, output) = Printing();
        m.Fit(x, labels, batchSize: 4, epochs: 2, verbose: 2);
        var lines = output.ToString().Replace("\r", "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal("Epoch 1/2", lines[0]);
        Assert.Matches(new Regex(@"^2/2 - \d+s - \d+(ms|us|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}$"), lines[1]);
        var (quiet, silent) = Printing();
        quiet.Fit(x, labels, batchSize: 4, verbose: 0);
        Assert.Equal("", silent.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => quiet.Fit(x, labels, verbose: 3));
    }

    [Fact]
    public void APassedProgressSinkReplacesThePrinting()
    {
        var (x, labels) = TrainingTests.Bars(8, 4);
        var (m, output) = Printing();
        var records = new List<EpochProgress>();
        m.Fit(x, labels, batchSize: 4, progress: new Sink(records));
        Assert.Equal("", output.ToString());
        Assert.Equal([ProgressKind.EpochBegin, ProgressKind.Batch, ProgressKind.Batch, ProgressKind.EpochEnd], records.Select(r => r.Kind));
    }

    private sealed class Sink(List<EpochProgress> records) : IProgress<EpochProgress>
    {
        public void Report(EpochProgress value) => records.Add(value);
    }
}
