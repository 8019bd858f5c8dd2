using Backprop.Keras;

namespace Backprop.Tests.Keras;

public class PrecisionRecallAucTests
{
    private static double Run(KerasMetric metric, params (float[] P, float[] Y)[] batches)
    {
        var state = metric.NewState();
        foreach (var (p, y) in batches) state.Update(Tensor.FromArray(p, p.Length, 1), Tensor.FromArray(y, y.Length, 1), null);
        return state.Result();
    }

    [Fact]
    public void PrecisionAndRecallCountOverAllBatches()
    {
        // Batch 1: TP 1, FP 1, FN 1. Batch 2: TP 2, FP 0, FN 0. Over the epoch precision 3/4, recall 3/4;
        // the mean of the per-batch values would be (0.5 + 1)/2.
        (float[], float[]) first = ([0.9f, 0.6f, 0.2f, 0.1f], [1, 0, 1, 0]);
        (float[], float[]) second = ([0.8f, 0.7f], [1, 1]);
        Assert.Equal(0.75, Run(new Precision(), first, second), 12);
        Assert.Equal(0.75, Run("recall", first, second), 12);
        Assert.Equal(0.8, Run(new Precision(threshold: 0.15), first, second), 12);   // 0.2 becomes a true positive
        Assert.Equal(0, Run("precision", ([0.1f], [1f])), 12);   // nothing predicted positive: 0, as Keras's divide_no_nan
    }

    [Fact]
    public void SparseLabelsCountAsOneHotRowsAndClassIdPicksAColumn()
    {
        var p = Tensor.FromArray([0.7f, 0.3f, 0.4f, 0.6f, 0.8f, 0.2f], 3, 2);
        int[] labels = [0, 0, 1];   // predictions 0, 1, 0 (at threshold 0.5 per element)
        var all = new Precision().NewState();
        all.Update(p, null, labels);
        Assert.Equal(1.0 / 3, all.Result(), 12);   // positives predicted: (0,0) ✓, (1,1) ✗, (2,0) ✗
        var zero = new Recall(classId: 0).NewState();
        zero.Update(p, null, labels);
        Assert.Equal(0.5, zero.Result(), 12);   // class 0 targets: rows 0 ✓ and 1 ✗
    }

    /// <summary>Keras's AUC, written out: confusion counts at each threshold, trapezoids over the ROC points.</summary>
    private static double ReferenceAuc(float[] p, float[] y, int n = 200)
    {
        var thresholds = new double[n];
        thresholds[0] = -1e-7;
        for (int i = 1; i < n - 1; i++) thresholds[i] = i / (double)(n - 1);
        thresholds[^1] = 1 + 1e-7;
        var tpr = new double[n];
        var fpr = new double[n];
        for (int t = 0; t < n; t++)
        {
            double tp = 0, fp = 0, fn = 0, tn = 0;
            for (int i = 0; i < p.Length; i++)
            {
                bool predicted = p[i] > (float)thresholds[t], positive = y[i] != 0;
                if (predicted && positive) tp++;
                else if (predicted) fp++;
                else if (positive) fn++;
                else tn++;
            }
            tpr[t] = tp + fn > 0 ? tp / (tp + fn) : 0;
            fpr[t] = fp + tn > 0 ? fp / (fp + tn) : 0;
        }
        double area = 0;
        for (int t = 0; t < n - 1; t++) area += (fpr[t] - fpr[t + 1]) * (tpr[t] + tpr[t + 1]) / 2;
        return area;
    }

    [Fact]
    public void AucMatchesKerasThresholdedTrapezoids()
    {
        var g = new Generator(5);
        var p = Tensor.Rand(g, 300).ToArray();
        var y = p.Select((v, i) => (v + 0.3 * Math.Sin(i)) > 0.5 ? 1f : 0f).ToArray();
        double expected = ReferenceAuc(p, y);
        Assert.InRange(expected, 0.6, 0.99);   // a partly separable set: the test means something
        Assert.Equal(expected, Run("auc", (p[..100], y[..100]), (p[100..], y[100..])), 12);
    }

    [Fact]
    public void AucOfPerfectAndInvertedScores()
    {
        (float[], float[]) perfect = ([0.1f, 0.2f, 0.8f, 0.9f], [0, 0, 1, 1]);
        Assert.Equal(1.0, Run(new AUC(), perfect), 12);
        (float[], float[]) inverted = ([0.9f, 0.8f, 0.2f, 0.1f], [0, 0, 1, 1]);
        Assert.Equal(0.0, Run(new AUC(), inverted), 12);
        Assert.Equal(0.5, Run(new AUC(), ([0.5f, 0.5f], [0f, 1f])), 12);   // ties: the diagonal
    }

    [Fact]
    public void FitLogsEpochLevelMetricsByNameAndObject()
    {
        var g = new Generator(8);
        var x = Tensor.Randn(g, 64, 3);
        var xs = x.ToArray();
        var y = Tensor.FromArray(Enumerable.Range(0, 64).Select(i => xs[i * 3] + xs[i * 3 + 1] > 0 ? 1f : 0f).ToArray(), 64, 1);
        var model = new Sequential(1, new Dense(1, inputShape: 3, activation: "sigmoid"));
        model.Compile("adam", "binary_crossentropy", ["accuracy", "precision", new Recall(name: "rec"), new AUC(numThresholds: 50)]);
        var history = model.Fit(x, y, batchSize: 16, epochs: 2, validationSplit: 0.25);
        foreach (var key in new[] { "precision", "rec", "auc", "val_precision", "val_rec", "val_auc" })
            Assert.Equal(2, history[key].Count);
        var dict = model.Evaluate(x, y, returnDict: true);
        var list = model.Evaluate(x, y);
        Assert.Equal([dict["loss"], dict["accuracy"], dict["precision"], dict["rec"], dict["auc"]], list);
        // Evaluate's precision is over the whole set, not a mean over its batches.
        var p = model.Predict(x).ToArray();
        var t = y.ToArray();
        double tp = 0, fp = 0;
        for (int i = 0; i < 64; i++) { if (p[i] > 0.5f) { if (t[i] != 0) tp++; else fp++; } }
        Assert.Equal(tp + fp > 0 ? tp / (tp + fp) : 0, dict["precision"], 12);
    }

    [Fact]
    public void DuplicateMetricNamesAreRefused()
    {
        var model = new Sequential(1, new Dense(1, inputShape: 3, activation: "sigmoid"));
        var e = Assert.Throws<ArgumentException>(() => model.Compile("adam", "binary_crossentropy", ["auc", new AUC()]));
        Assert.Contains("auc", e.Message);
    }

    [Fact]
    public void SavedModelKeepsConfiguredMetricsAndNewOptimizers()
    {
        var model = new Sequential(1, new Dense(1, inputShape: 3, activation: "sigmoid"));
        model.Compile(new Nadam(learningRate: 0.01), "hinge", ["accuracy", new Recall(threshold: 0.3, name: "rec"), new AUC(numThresholds: 20, summationMethod: "minoring")]);
        string path = Path.Combine(Path.GetTempPath(), $"backprop-metrics-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var loaded = Sequential.Load(path);
            var x = Tensor.Randn(new Generator(4), 10, 3);
            var y = Tensor.FromArray(Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? 1f : 0f).ToArray(), 10, 1);
            Assert.Equal(model.Evaluate(x, y, returnDict: true), loaded.Evaluate(x, y, returnDict: true));
            Assert.Equal("hinge", loaded.Loss);
            Assert.IsType<Backprop.Optim.NAdam>(loaded.Optimizer);
            Assert.Equal(0.01f, loaded.Optimizer.LearningRate);
        }
        finally { File.Delete(path); }
    }
}
