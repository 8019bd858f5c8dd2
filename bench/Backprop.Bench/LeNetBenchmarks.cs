using BenchmarkDotNet.Attributes;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Bench;

/// <summary>
/// One training step of Caffe's LeNet (batch 64, 1x28x28 -> conv 20 5x5 -> max 2x2 -> conv 50 5x5 -> max 2x2
/// -> 500 -> ReLU -> 10, softmax cross-entropy, SGD with momentum in Caffe's form), on fixed random data,
/// through the public functional API: forward, backward, update. Also inference alone (any <see cref="Batch"/>;
/// bench/kernels/run.sh inference times it at 64 and 1000).
/// </summary>
[MemoryDiagnoser]
public class LeNetBenchmarks
{
    private Parameter[] ps = [];
    private Tensor images = null!;
    private int[] labels = [];
    private Sgd sgd = null!;
    private readonly TensorMemoryPool memory = new();   // each step reuses the last one's buffers, as a training loop does

    /// <summary>Images per step; set before <see cref="Setup"/>.</summary>
    public int Batch { get; set; } = 64;

    [GlobalSetup]
    public void Setup()
    {
        var gen = new Generator(1);
        Parameter P(float std, params int[] shape) => new(Tensor.Normal(gen, 0f, std, shape));
        ps = [P(0.2f, 20, 1, 5, 5), P(0f, 20), P(0.06f, 50, 20, 5, 5), P(0f, 50), P(0.05f, 500, 800), P(0f, 500), P(0.06f, 10, 500), P(0f, 10)];
        images = Tensor.Rand(gen, Batch, 1, 28, 28);
        labels = Enumerable.Range(0, Batch).Select(i => i % 10).ToArray();
        sgd = new Sgd(ps, 0.01f, momentum: 0.9f, weightDecay: 0.0005f, style: SgdMomentumStyle.Caffe);
    }

    private Tensor Logits(Tensor x)
    {
        x = Functional.Conv2d(x, ps[0], ps[1]);
        x = Functional.MaxPool2d(x, 2, 2);
        x = Functional.Conv2d(x, ps[2], ps[3]);
        x = Functional.MaxPool2d(x, 2, 2);
        x = Functional.Relu(Functional.Linear(Functional.Flatten(x), ps[4], ps[5]));
        return Functional.Linear(x, ps[6], ps[7]);
    }

    [Benchmark]
    public float TrainStep()
    {
        using var step = memory.Scope();
        sgd.ZeroGrad(setToNone: false);
        var loss = Functional.CrossEntropy(Logits(images), labels);
        loss.Backward();
        sgd.Step();
        return loss.Item();
    }

    [Benchmark]
    public float Inference()
    {
        using var step = memory.Scope();
        using var _ = Autograd.Autograd.NoGrad();
        return Logits(images).AsSpan()[0];
    }
}
