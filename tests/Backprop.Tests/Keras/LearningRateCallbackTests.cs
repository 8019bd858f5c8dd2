using Backprop.Keras;

namespace Backprop.Tests.Keras;

public class LearningRateCallbackTests
{
    private static Sequential Compiled(double lr = 0.1)
    {
        var model = new Sequential(1, new Dense(1, inputShape: 2));
        model.Compile(new SGD(learningRate: lr), "mse");
        return model;
    }

    /// <summary>Feeds a callback a series of monitored values, as Fit would at each epoch's end; returns the rate after each.</summary>
    private static double[] Feed(Callback callback, Sequential model, string key, params double[] values)
    {
        typeof(Callback).GetProperty("Model")!.SetValue(callback, model);
        callback.OnTrainBegin();
        var rates = new double[values.Length];
        for (int e = 0; e < values.Length; e++)
        {
            callback.OnEpochEnd(e, new Dictionary<string, double> { [key] = values[e] });
            rates[e] = model.Optimizer.LearningRate;
        }
        return rates;
    }

    [Fact]
    public void ReduceLROnPlateauCutsTheRateAfterPatienceEpochsWithoutImprovement()
    {
        var model = Compiled(0.1);
        var rates = Feed(new ReduceLROnPlateau(patience: 2), model, "val_loss", 1.0, 0.9, 0.95, 0.9, 0.8, 0.85, 0.85);
        // 0.9 improves; 0.95 and 0.9 (not better than 0.9 − 1e-4) wait 1 and 2 → cut; 0.8 improves; two waits → cut again.
        double[] expected = [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], rates[i], 6);
    }

    [Fact]
    public void MinDeltaCooldownAndMinLearningRate()
    {
        var model = Compiled(0.1);
        // Improvements smaller than minDelta count as waits; after a cut, cooldown 2 epochs pass before waiting again;
        // the rate never goes below minLearningRate.
        var rates = Feed(new ReduceLROnPlateau(factor: 0.5, patience: 1, minDelta: 0.1, cooldown: 2, minLearningRate: 0.03), model, "val_loss",
            1.0, 0.95, 0.93, 0.91, 0.89, 0.87, 0.85, 0.83);
        // e1 cut (0.05, cooldown 2); e2 cooling; e3 cooldown ends, waits 1 → cut to max(0.025, 0.03); e4 improves; then 0.03 stays.
        double[] expected = [0.1, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], rates[i], 6);
    }

    [Fact]
    public void AccuracyIsMaximizedInAutoMode()
    {
        var model = Compiled(0.1);
        var rates = Feed(new ReduceLROnPlateau(monitor: "val_accuracy", patience: 1), model, "val_accuracy", 0.5, 0.6, 0.55);
        Assert.Equal([0.1, 0.1, 0.01], rates.Select(r => Math.Round(r, 6)));
    }

    [Fact]
    public void ReduceLROnPlateauValidatesItsArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(factor: 1.0));
        Assert.Throws<ArgumentException>(() => new ReduceLROnPlateau(mode: "up"));
        var model = Compiled();
        var e = Assert.Throws<InvalidOperationException>(() => Feed(new ReduceLROnPlateau(), model, "loss", 1.0));
        Assert.Contains("val_loss", e.Message);
    }

    [Fact]
    public void SchedulerSetsTheRateAtEachEpochStartDuringFit()
    {
        var model = Compiled(0.1);
        var seen = new List<(int Epoch, double Lr)>();
        var scheduler = new LearningRateScheduler((epoch, lr) =>
        {
            seen.Add((epoch, lr));
            return epoch < 2 ? lr : lr * 0.5;
        });
        var x = Tensor.Randn(new Generator(2), 8, 2);
        var y = Tensor.Randn(new Generator(3), 8, 1);
        model.Fit(x, y, batchSize: 4, epochs: 4, callbacks: [scheduler]);
        Assert.Equal([0, 1, 2, 3], seen.Select(s => s.Epoch));
        Assert.Equal([0.1, 0.1, 0.1, 0.05], seen.Select(s => Math.Round(s.Lr, 6)));
        Assert.Equal(0.025, model.Optimizer.LearningRate, 6);
    }

    [Fact]
    public void SchedulerOfTheEpochAloneAndBadRates()
    {
        var model = Compiled(0.1);
        var scheduler = new LearningRateScheduler(epoch => 0.01 * (epoch + 1));
        typeof(Callback).GetProperty("Model")!.SetValue(scheduler, model);
        scheduler.OnEpochBegin(2);
        Assert.Equal(0.03, model.Optimizer.LearningRate, 6);
        var bad = new LearningRateScheduler(_ => double.NaN);
        typeof(Callback).GetProperty("Model")!.SetValue(bad, model);
        var e = Assert.Throws<InvalidOperationException>(() => bad.OnEpochBegin(0));
        Assert.Contains("NaN", e.Message);
    }
}
