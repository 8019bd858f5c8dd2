using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>
/// The cases <see cref="AbTimings"/> times in two builds side by side, by name: one call of the case per
/// timing. The name is the contract between builds, so keep old names working when adding new ones.
/// </summary>
public static class AbCases
{
    public const string Help =
        "bn:N,C,H,W:{bn|bnrelu|bnaddrelu}:{fwd|bwd} (a BatchNorm2d op in training; bwd: backward of a recorded forward, the input's gradient cloned into a fresh array), " +
        "bnk:N,C,H,W:{bn|bnrelu|bnaddrelu}:{fwd|bwd|eval} (the BatchNorm kernels alone on buffers made once; eval: running statistics), conv:{lenet1|lenet2|vgg|1x1|cq1|cq2|cq3|res16|res32s2|res64|vgg32|vgg256|N,C,H,W,K,kernel,stride,pad}:{fwd|bwdData|bwdW|eval|evalrelu} (eval: an evaluation-mode Nn.Conv2d under no-grad in a pool scope, its kept weights; evalrelu: ForwardRelu), pool:{pool1|pool2|cq1|cq2|cq3|N,C,H,W}:{fwd|bwd} (cq: cifar10_quick's 3x3 stride-2 ceil pools, MAX, AVE, AVE; batch 100; N,C,H,W: 2x2 stride-2 max, VGG's), relu:N:{fwd|bwd} (ReLU kernels on N floats), gemm:M:N:K[:TN|NT|TT], linear:M:N:K (Functional.Linear with bias, (M, K) by (N, K), under no-grad in a pool scope), step (a LeNet training " +
        "step, functional API), infer:{lenet|lenet64|resnet20|resnet20folded|resnet20folded64|resnet20imported|resnet20imported64} (an eval forward under no-grad, in a pool scope; batch 1, the 64s batch 64; imported: the net exported to ONNX and imported, as bench/onnx's backprop_imported), train:{resnet20|vgg} (a training step of bench/resnet's net, as ConvNetTimings times it: zero_grad, forward, cross-entropy, backward, SGD momentum step, in a pool scope; resnet20 batch 128), solver (an iteration of the Caffe solver on examples/mnist's LeNet, random images in place of the LMDB), solverq (the same on bench/cifar's cifar10_quick, batch 100)";

    /// <summary>The case's body; its data is made once, here.</summary>
    public static Action Make(string name)
    {
        string[] p = name.Split(':');
        return p[0] switch
        {
            "conv" when p.Length == 3 => Conv(Geometry(p[1]), p[2]),
            "bn" when p.Length == 4 => BatchNormCase(p[1], p[2], p[3]),
            "bnk" when p.Length == 4 => AbKernelCases.BatchNorm(p[1], p[2], p[3]),
            "pool" when p.Length == 3 && p[1].Contains(',') => AbKernelCases.MaxPool2x2(p[1], p[2]),
            "pool" when p.Length == 3 => Pool(p[1], p[2]),
            "relu" when p.Length == 3 => Relu(int.Parse(p[1]), p[2]),
            "linear" when p.Length == 4 => Linear(int.Parse(p[1]), int.Parse(p[2]), int.Parse(p[3])),
            "gemm" when p.Length is 4 or 5 => Gemm(int.Parse(p[1]), int.Parse(p[2]), int.Parse(p[3]), p.Length == 5 ? p[4] : "NN"),
            "step" => Step(),
            "train" when p.Length == 2 => TrainStep(p[1]),
            "infer" when p.Length == 2 => Inference(p[1]),
            "solver" => SolverIteration(),
            "solverq" => QuickSolverIteration(),
            _ => throw new ArgumentException($"Unknown case '{name}'; cases: {Help}."),
        };
    }

    private static Conv2dGeometry Geometry(string name) => name switch
    {
        "lenet1" => new Conv2dGeometry(64, 1, 28, 28, 20, 5, 5, 1, 1, 0, 0, 1, 1, 1),
        "lenet2" => new Conv2dGeometry(64, 20, 12, 12, 50, 5, 5, 1, 1, 0, 0, 1, 1, 1),
        "vgg" => new Conv2dGeometry(8, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),
        "1x1" => new Conv2dGeometry(8, 256, 28, 28, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1),
        // Caffe's cifar10_quick (batch 100; conv1 has 3 input channels), ResNet-20 (batch 128) and the VGG stack (batch 32)
        "cq1" => new Conv2dGeometry(100, 3, 32, 32, 32, 5, 5, 1, 1, 2, 2, 1, 1, 1),
        "cq2" => new Conv2dGeometry(100, 32, 16, 16, 32, 5, 5, 1, 1, 2, 2, 1, 1, 1),
        "cq3" => new Conv2dGeometry(100, 32, 8, 8, 64, 5, 5, 1, 1, 2, 2, 1, 1, 1),
        "res16" => new Conv2dGeometry(128, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
        "res32s2" => new Conv2dGeometry(128, 16, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1),
        "res64" => new Conv2dGeometry(128, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),
        "vgg32" => new Conv2dGeometry(32, 32, 64, 64, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
        "vgg256" => new Conv2dGeometry(32, 256, 8, 8, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1),
        _ when name.Split(',') is { Length: 8 } f && f.All(v => int.TryParse(v, out _)) => Spec(f.Select(int.Parse).ToArray()),
        _ => throw new ArgumentException($"Unknown convolution '{name}'; cases: {Help}."),
    };

    // N,C,H,W,K,kernel,stride,pad: a square kernel, stride and padding
    private static Conv2dGeometry Spec(int[] f) => new(f[0], f[1], f[2], f[3], f[4], f[5], f[5], f[6], f[6], f[7], f[7], 1, 1, 1);

    private static Action Conv(Conv2dGeometry g, string pass)
    {
        float[] x = Data.Random(g.InputLength, 1), w = Data.Random(g.WeightLength, 2), bias = Data.Random(g.OutChannels, 3);
        float[] y = new float[g.OutputLength], dy = Data.Random(g.OutputLength, 4), dx = new float[g.InputLength];
        float[] dw = new float[g.WeightLength], db = new float[g.OutChannels];
        return pass switch
        {
            "fwd" => () => Convolution.Forward(g, x, w, bias, y),
            "bwdData" => () => Convolution.BackwardData(g, dy, w, dx),
            "bwdW" => () => Convolution.BackwardWeights(g, x, dy, dw, db),
            "eval" or "evalrelu" => EvalConv(g, pass == "evalrelu"),
            _ => throw new ArgumentException($"Unknown convolution pass '{pass}'; cases: {Help}."),
        };
    }

    // What an inference forward pays for the layer: the module's kept Winograd or direct weights, its tensor and pool costs.
    private static Action EvalConv(Conv2dGeometry g, bool relu)
    {
        var conv = new Nn.Conv2d(g.InChannels, g.OutChannels, (g.KernelHeight, g.KernelWidth), (g.StrideHeight, g.StrideWidth),
            (g.PadHeight, g.PadWidth), (g.DilationHeight, g.DilationWidth), g.Groups, generator: new Generator(2));
        conv.Eval();
        var x = Tensor.FromArray(Data.Random(g.InputLength, 1), g.Batch, g.InChannels, g.InHeight, g.InWidth);
        var pool = new TensorMemoryPool();
        return () =>
        {
            using var noGrad = Autograd.Autograd.NoGrad();
            using (pool.Scope()) (relu ? conv.ForwardRelu(x) : conv.Forward(x)).AsSpan();
        };
    }

    private static Action Pool(string name, string pass)
    {
        if (name.StartsWith("cq", StringComparison.Ordinal)) return CifarPool(name, pass);
        int planeSide = name switch
        {
            "pool1" => 24,
            "pool2" => 8,
            _ => throw new ArgumentException($"Unknown pooling '{name}'; cases: {Help}."),
        };
        var g = Pool2dGeometry.Create(64, name == "pool1" ? 20 : 50, planeSide, planeSide, 2, 2, 2, 2, 0, 0, false);
        float[] x = Data.Random(g.InputLength, 1), y = new float[g.OutputLength], dy = Data.Random(g.OutputLength, 2), dx = new float[g.InputLength];
        int[] argmax = new int[g.OutputLength];
        Pooling.MaxForward(g, x, y, argmax);
        return pass switch
        {
            "fwd" => () => Pooling.MaxForward(g, x, y, argmax),
            "bwd" => () => Pooling.MaxBackward(g, dy, argmax, dx),
            _ => throw new ArgumentException($"Unknown pooling pass '{pass}'; cases: {Help}."),
        };
    }

    // cifar10_quick's pools (bench/cifar/cifar10_quick_train_test.prototxt, batch 100): 3x3 stride 2, ceil rounding.
    private static Action CifarPool(string name, string pass)
    {
        var (g, max) = name switch
        {
            "cq1" => (Pool2dGeometry.Create(100, 32, 32, 32, 3, 3, 2, 2, 0, 0, true), true),
            "cq2" => (Pool2dGeometry.Create(100, 32, 16, 16, 3, 3, 2, 2, 0, 0, true), false),
            "cq3" => (Pool2dGeometry.Create(100, 64, 8, 8, 3, 3, 2, 2, 0, 0, true), false),
            _ => throw new ArgumentException($"Unknown pooling '{name}'; cases: {Help}."),
        };
        float[] x = Data.Random(g.InputLength, 1), y = new float[g.OutputLength], dy = Data.Random(g.OutputLength, 2), dx = new float[g.InputLength];
        int[] argmax = new int[g.OutputLength];
        Pooling.MaxForward(g, x, y, argmax);
        return (pass, max) switch
        {
            ("fwd", true) => () => Pooling.MaxForward(g, x, y, argmax),
            ("bwd", true) => () => Pooling.MaxBackward(g, dy, argmax, dx),
            ("fwd", false) => () => Pooling.AvgForward(g, x, y, true),
            ("bwd", false) => () => Pooling.AvgBackward(g, dy, dx, true),
            _ => throw new ArgumentException($"Unknown pooling pass '{pass}'; cases: {Help}."),
        };
    }

    // The ReLU kernels on n floats (cifar10_quick's relu1: 100x32x16x16 = 819200).
    private static Action Relu(int n, string pass)
    {
        float[] x = Data.Random(n, 1), y = new float[n], dy = Data.Random(n, 2), dx = new float[n];
        return pass switch
        {
            "fwd" => () => Activations.ReluForward(x, y),
            "bwd" => () => Activations.ReluBackward(x, dy, dx),
            _ => throw new ArgumentException($"Unknown relu pass '{pass}'; cases: {Help}."),
        };
    }

    private static Action Gemm(int m, int n, int k, string trans)
    {
        bool ta = trans[0] == 'T', tb = trans[1] == 'T';
        float[] a = Data.Random((long)m * k, 1), b = Data.Random((long)k * n, 2), c = new float[(long)m * n];
        return () => Kernels.Gemm.Sgemm(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, 0f, c, n);
    }

    private static Action Linear(int m, int n, int k)
    {
        var generator = new Generator(1);
        Tensor x = Tensor.Rand(generator, m, k), w = Tensor.Rand(generator, n, k), b = Tensor.Rand(generator, n);
        var pool = new TensorMemoryPool();
        return () =>
        {
            using var noGrad = Autograd.Autograd.NoGrad();
            using (pool.Scope()) Functional.Linear(x, w, b).AsSpan();
        };
    }

    private static Action Step()
    {
        var lenet = new LeNetBenchmarks();
        lenet.Setup();
        return () => lenet.TrainStep();
    }

    // A training step of ConvNetTimings' net (bench/resnet/run.sh): the same optimizer, pool scope and zero_grad.
    private static Action TrainStep(string net)
    {
        var generator = new Generator(1);
        (Nn.Module model, int batch, int size) = ConvNetTimings.Make(net, generator);
        var images = Tensor.Rand(generator, batch, 3, size, size);
        var labels = Enumerable.Range(0, batch).Select(_ => generator.NextInt(10)).ToArray();
        var optimizer = new Optim.Sgd(model.Parameters(), 0.1f, momentum: 0.9f, weightDecay: 5e-4f);
        var pool = new TensorMemoryPool();
        model.Train();
        return () =>
        {
            using (pool.Scope())
            {
                optimizer.ZeroGrad(setToNone: false);
                var output = Functional.CrossEntropy(model.Forward(images), labels);
                output.Backward();
                optimizer.Step();
            }
        };
    }

    // The nets of OnnxInferenceTimings at batch 1 (lenet64: LeNet at batch 64), as bench/onnx/run.sh times them: eval mode, no-grad, a pool scope per call.
    private static Action Inference(string net)
    {
        var generator = new Generator(1);
        Nn.Module model;
        Tensor input;
        switch (net)
        {
            case "lenet" or "lenet64":
                model = new Nn.Sequential(
                    new Nn.Conv2d(1, 20, 5, generator: generator), new Nn.MaxPool2d(2),
                    new Nn.Conv2d(20, 50, 5, generator: generator), new Nn.MaxPool2d(2),
                    new Nn.Flatten(), new Nn.Linear(800, 500, generator: generator), new Nn.Relu(), new Nn.Linear(500, 10, generator: generator));
                input = Tensor.Rand(generator, net == "lenet64" ? 64 : 1, 1, 28, 28);
                break;
            case "resnet20" or "resnet20folded" or "resnet20folded64":
                var resnet = new ResNet20(generator);
                resnet.Eval();
                model = net == "resnet20" ? resnet : resnet.FusedForInference();
                input = Tensor.Rand(generator, net == "resnet20folded64" ? 64 : 1, 3, 32, 32);
                break;
            case "resnet20imported" or "resnet20imported64":
                model = ImportedResNet20(generator);
                input = Tensor.Rand(generator, net == "resnet20imported64" ? 64 : 1, 3, 32, 32);
                break;
            default:
                throw new ArgumentException($"Unknown net '{net}'; cases: {Help}.");
        }
        model.Eval();
        var pool = new TensorMemoryPool();
        return () =>
        {
            using var noGrad = Autograd.Autograd.NoGrad();
            using (pool.Scope()) model.Forward(input).AsSpan();
        };
    }

    // bench/onnx's ResNet-20 (its BatchNorm statistics moved off their defaults, so a fold is not trivial), exported to
    // ONNX and imported back: what a user who loads the exported file runs.
    private static Nn.Module ImportedResNet20(Generator generator)
    {
        var (resnet, sample) = OnnxInferenceTimings.Build("resnet20", generator);
        string path = Path.Combine(Path.GetTempPath(), $"backprop-ab-resnet20-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        try
        {
            Onnx.OnnxExporter.Export(resnet, sample, path);
            return Onnx.Import.OnnxImporter.Import(path);
        }
        finally { File.Delete(path); }
    }

    // examples/mnist/lenet_train_test.prototxt and lenet_solver.prototxt, read from the working directory (the
    // repository root, where bench/ab/run.sh runs), with the TRAIN Data layer's records replaced by random images
    // (DummyData) and no test passes. Learning rate 0: every iteration does the same work on the same weights.
    private static Action SolverIteration()
    {
        var net = Prototxt.ParseFile<NetParameter>("examples/mnist/lenet_train_test.prototxt");
        var data = net.Layer.First(l => l.Type == "Data" && l.Include.Any(r => r.Phase == Phase.Train));
        data.Type = "DummyData";
        data.DataParam = null;
        data.TransformParam = null;
        data.DummyDataParam = Prototxt.Parse<DummyDataParameter>("""
            shape { dim: 64 dim: 1 dim: 28 dim: 28 } shape { dim: 64 }
            data_filler { type: "uniform" min: 0 max: 1 } data_filler { type: "constant" value: 3 }
            """);
        var solver = Prototxt.ParseFile<SolverParameter>("examples/mnist/lenet_solver.prototxt");
        solver.ClearNet();
        solver.NetParam = net;
        solver.TestIter.Clear();
        solver.TestInterval = 0;
        solver.BaseLr = 0;
        solver.Snapshot = 0;
        solver.SnapshotAfterTrain = false;
        var caffe = new CaffeSolver(solver);
        return () => caffe.Step(out _);
    }

    // An iteration of the Caffe solver on bench/cifar's cifar10_quick (batch 100), uniform images in place of the LMDB,
    // learning rate 0 (every iteration the same work on the same weights).
    private static Action QuickSolverIteration()
    {
        var net = Prototxt.ParseFile<NetParameter>("bench/cifar/cifar10_quick_train_test.prototxt");
        var data = net.Layer.First(l => l.Type == "Data" && l.Include.Any(r => r.Phase == Phase.Train));
        data.Type = "DummyData";
        data.DataParam = null;
        data.TransformParam = null;
        data.DummyDataParam = Prototxt.Parse<DummyDataParameter>("""
            shape { dim: 100 dim: 3 dim: 32 dim: 32 } shape { dim: 100 }
            data_filler { type: "uniform" min: -0.5 max: 0.5 } data_filler { type: "constant" value: 3 }
            """);
        var solver = Prototxt.ParseFile<SolverParameter>("bench/cifar/cifar10_quick_solver.prototxt");
        solver.ClearNet();
        solver.NetParam = net;
        solver.TestIter.Clear();
        solver.TestInterval = 0;
        solver.BaseLr = 0;
        solver.Snapshot = 0;
        solver.SnapshotAfterTrain = false;
        var caffe = new CaffeSolver(solver);
        return () => caffe.Step(out _);
    }

    // Functional.BatchNorm / BatchNormRelu / BatchNormAddRelu in training on (N, C, H, W): the forward alone (no graph),
    // or the backward of one recorded forward (the graph kept; the input's gradient cleared each time).
    private static Action BatchNormCase(string shape, string op, string pass)
    {
        int[] d = shape.Split(',').Select(int.Parse).ToArray();
        if (d.Length != 4) throw new ArgumentException($"bn case shape '{shape}' is not N,C,H,W; cases: {Help}.");
        var generator = new Generator(1);
        var x = Tensor.Randn(generator, d[0], d[1], d[2], d[3]);
        var residual = Tensor.Randn(generator, d[0], d[1], d[2], d[3]);
        var upstream = Tensor.Randn(generator, d[0], d[1], d[2], d[3]);
        var bn = new Nn.BatchNorm2d(d[1]);
        bn.Train();
        var pool = new TensorMemoryPool();   // as a training step: activations come from the pool, not fresh arrays
        Func<Tensor> forward = op switch
        {
            "bn" => () => bn.Forward(x),
            "bnrelu" => () => bn.ForwardRelu(x),
            "bnaddrelu" => () => bn.ForwardAddRelu(x, residual),
            _ => throw new ArgumentException($"Unknown bn op '{op}'; cases: {Help}."),
        };
        switch (pass)
        {
            case "fwd":
                return () => { using var noGrad = Autograd.Autograd.NoGrad(); using (pool.Scope()) forward(); };
            case "bwd":
                x.RequiresGrad = true;
                residual.RequiresGrad = true;
                var y = forward();
                return () =>
                {
                    x.Grad = null;
                    residual.Grad = null;
                    using (pool.Scope()) y.Backward(upstream, retainGraph: true);
                };
            default:
                throw new ArgumentException($"Unknown bn pass '{pass}'; cases: {Help}.");
        }
    }
}
