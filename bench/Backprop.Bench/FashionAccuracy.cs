using System.Diagnostics;
using System.Globalization;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Bench;

/// <summary>
/// ResNet-20 (<see cref="ResNet20"/>) trained on Fashion-MNIST for an accuracy comparison with PyTorch
/// (bench/resnet/fashion_resnet.py runs the same recipe): images scaled to [0, 1], normalized by the training set's
/// mean 0.2860 and deviation 0.3530, zero-padded to 32x32 and repeated over the three input channels; batch 128, the
/// training set reshuffled each epoch (the last partial batch dropped); SGD momentum 0.9, weight decay 5e-4, lr 0.1
/// and 0.01 in the last epoch (the last iterate of a constant 0.1 tested anywhere from 50% to 81%); then test accuracy over the 10,000 test images in eval mode. Prints a RESULT line. Needs `apt-get install
/// dataset-fashion-mnist` (or the files in the data directory).
/// </summary>
internal static class FashionAccuracy
{
    private const int Batch = 128;
    private const float Mean = 0.2860f, Deviation = 0.3530f;

    public static void Run(int epochs, int seed)
    {
        var (trainImages, trainLabels) = Prepare(FashionMnist.Load(MnistSplit.Train));
        var (testImages, testLabels) = Prepare(FashionMnist.Load(MnistSplit.Test));
        var generator = new Generator((ulong)seed);
        var model = new ResNet20(generator);
        var optimizer = new Sgd(model.Parameters(), 0.1f, momentum: 0.9f, weightDecay: 5e-4f);
        var pool = new TensorMemoryPool();
        int count = trainLabels.Length, perImage = 3 * 32 * 32, steps = count / Batch;
        var order = Enumerable.Range(0, count).ToArray();
        var batchImages = new float[Batch * perImage];
        var batchLabels = new int[Batch];
        var clock = Stopwatch.StartNew();
        float loss = float.NaN;
        model.Train();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            optimizer.LearningRate = epoch == epochs - 1 && epochs > 1 ? 0.01f : 0.1f;
            for (int i = count - 1; i > 0; i--)   // Fisher-Yates with the run's generator
            {
                int j = generator.NextInt(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            for (int step = 0; step < steps; step++)
            {
                for (int b = 0; b < Batch; b++)
                {
                    int index = order[step * Batch + b];
                    Array.Copy(trainImages, (long)index * perImage, batchImages, (long)b * perImage, perImage);
                    batchLabels[b] = trainLabels[index];
                }
                using (pool.Scope())
                {
                    optimizer.ZeroGrad();
                    var output = Functional.CrossEntropy(model.Forward(Tensor.FromArray(batchImages, Batch, 3, 32, 32)), batchLabels);
                    output.Backward();
                    optimizer.Step();
                    loss = output.Item();
                }
            }
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;

        double accuracy = TestAccuracy(model, testImages, testLabels, pool);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT backprop net=resnet20 data=fashion-mnist epochs={epochs} seed={seed} steps={steps * epochs} loss={loss:F4} " +
            $"train_seconds={trainSeconds:F1} test_accuracy={accuracy:F4}"));
    }

    /// <summary>The fraction of <paramref name="labels"/> that <paramref name="model"/> gets right in eval mode, 500 images at a time.</summary>
    internal static double TestAccuracy(Module model, float[] images, int[] labels, TensorMemoryPool pool)
    {
        const int perImage = 3 * 32 * 32, testBatch = 500;
        model.Eval();
        int correct = 0;
        using (Autograd.Autograd.NoGrad())
            for (int start = 0; start < labels.Length; start += testBatch)
            {
                int n = Math.Min(testBatch, labels.Length - start);
                var chunk = new float[n * perImage];
                Array.Copy(images, (long)start * perImage, chunk, 0, chunk.Length);
                using (pool.Scope())
                {
                    float[] logits = model.Forward(Tensor.FromArray(chunk, n, 3, 32, 32)).ToArray();
                    for (int i = 0; i < n; i++)
                    {
                        int best = 0;
                        for (int c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
                        if (best == labels[start + i]) correct++;
                    }
                }
            }
        return (double)correct / labels.Length;
    }

    // (N, 1, 28, 28) of 0-255 -> (N, 3, 32, 32): scaled, normalized, zero-padded by 2, the grey plane in all three channels
    internal static (float[] Images, int[] Labels) Prepare(LabeledImages set)
    {
        float[] raw = set.Images.ToArray();
        int n = set.Count;
        var images = new float[(long)n * 3 * 32 * 32];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < 3; ch++)
                for (int r = 0; r < 28; r++)
                    for (int c = 0; c < 28; c++)
                        images[(((long)i * 3 + ch) * 32 + r + 2) * 32 + c + 2] = (raw[((long)i * 28 + r) * 28 + c] / 255f - Mean) / Deviation;
        return (images, Array.ConvertAll(set.Labels, b => (int)b));
    }
}
