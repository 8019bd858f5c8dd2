using System.Globalization;
using Backprop.Data;
using Backprop.Optim;

namespace Backprop.Bench;

/// <summary>
/// Backprop's half of the lockstep check of the Fashion-MNIST recipe (bench/resnet/fashion_lockstep.py writes the other
/// half's files): loads PyTorch's initial ResNet-20 weights (DIR/init.safetensors) and batch order (DIR/order.bin,
/// int32), trains the recipe's steps from them and prints each step's loss and the test accuracy in eval mode. With
/// the same start and the same batches, the two sides' losses should agree to float rounding at first; a difference in
/// the recipe (initialisation aside) shows within a few steps. Saves the weights and running statistics after the
/// first step as DIR/backprop_step1.safetensors for a closer comparison.
/// </summary>
internal static class FashionLockstep
{
    private const int Batch = 128, PerImage = 3 * 32 * 32;

    public static void Run(string directory, int steps)
    {
        var (trainImages, trainLabels) = FashionAccuracy.Prepare(FashionMnist.Load(MnistSplit.Train));
        var (testImages, testLabels) = FashionAccuracy.Prepare(FashionMnist.Load(MnistSplit.Test));
        string orderPath = Path.Combine(directory, "order.bin");
        byte[] orderBytes = File.ReadAllBytes(orderPath);
        if (orderBytes.Length < steps * Batch * sizeof(int))
            throw new InvalidDataException($"'{orderPath}' holds {orderBytes.Length / sizeof(int)} indices; {steps} steps need {steps * Batch}.");
        var order = new int[steps * Batch];
        Buffer.BlockCopy(orderBytes, 0, order, 0, order.Length * sizeof(int));   // little-endian, as the writer
        var model = new ResNet20(new Generator(0));
        model.Load(Path.Combine(directory, "init.safetensors"));
        var optimizer = new Sgd(model.Parameters(), 0.1f, momentum: 0.9f, weightDecay: 5e-4f);
        var pool = new TensorMemoryPool();
        var batchImages = new float[Batch * PerImage];
        var batchLabels = new int[Batch];
        model.Train();
        for (int step = 0; step < steps; step++)
        {
            for (int b = 0; b < Batch; b++)
            {
                int index = order[step * Batch + b];
                Array.Copy(trainImages, (long)index * PerImage, batchImages, (long)b * PerImage, PerImage);
                batchLabels[b] = trainLabels[index];
            }
            using (pool.Scope())
            {
                optimizer.ZeroGrad();
                var output = Functional.CrossEntropy(model.Forward(Tensor.FromArray(batchImages, Batch, 3, 32, 32)), batchLabels);
                output.Backward();
                optimizer.Step();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STEP backprop {step + 1} loss={output.Item():F6}"));
            }
            if (step == 0) model.Save(Path.Combine(directory, "backprop_step1.safetensors"));   // for fashion_lockstep.py --compare
        }
        double accuracy = FashionAccuracy.TestAccuracy(model, testImages, testLabels, pool);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT backprop lockstep steps={steps} test_accuracy={accuracy:F4}"));
    }
}
