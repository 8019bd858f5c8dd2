using Backprop.Nn;
using Xunit.Abstractions;

namespace Backprop.Tests.Nn;

public class ModuleTests(ITestOutputHelper output)
{
    /// <summary>LeNet as in Caffe's examples/mnist/lenet.prototxt.</summary>
    private sealed class LeNet : Module
    {
        public LeNet(Generator g)
        {
            Conv1 = RegisterModule("conv1", new Backprop.Nn.Conv2d(1, 20, 5, generator: g));
            Pool = RegisterModule("pool", new MaxPool2d(2));
            Conv2 = RegisterModule("conv2", new Backprop.Nn.Conv2d(20, 50, 5, generator: g));
            Fc1 = RegisterModule("fc1", new Backprop.Nn.Linear(800, 500, generator: g));
            Fc2 = RegisterModule("fc2", new Backprop.Nn.Linear(500, 10, generator: g));
        }

        public Backprop.Nn.Conv2d Conv1 { get; }
        public MaxPool2d Pool { get; }
        public Backprop.Nn.Conv2d Conv2 { get; }
        public Backprop.Nn.Linear Fc1 { get; }
        public Backprop.Nn.Linear Fc2 { get; }

        public override Tensor Forward(Tensor input)
        {
            var x = Pool.Forward(Conv1.Forward(input));
            x = Pool.Forward(Conv2.Forward(x));
            return Fc2.Forward(Backprop.Functional.Relu(Fc1.Forward(x.Flatten(1))));
        }
    }

    /// <summary>A small net with a batch-norm and dropout child inside a Sequential.</summary>
    private sealed class SmallNet : Module
    {
        public SmallNet(Generator g)
        {
            Conv1 = RegisterModule("conv1", new Backprop.Nn.Conv2d(2, 3, 3, padding: 1, generator: g));
            Block = RegisterModule("block", new Sequential(new BatchNorm2d(3), new Relu(), new Dropout(0.5f, new Generator(3))));
            Fc = RegisterModule("fc", new Backprop.Nn.Linear(3 * 4 * 4, 2, generator: g));
        }

        public Backprop.Nn.Conv2d Conv1 { get; }
        public Sequential Block { get; }
        public Backprop.Nn.Linear Fc { get; }

        public override Tensor Forward(Tensor input) => Fc.Forward(Block.Forward(Conv1.Forward(input)).Flatten(1));
    }

    [Fact]
    public void NamedParametersUseDottedNames()
    {
        var net = new LeNet(new Generator(1));
        Assert.Equal(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"],
            net.NamedParameters().Select(p => p.Key).ToArray());
        Assert.Same(net.Conv2.Weight, net.NamedParameters().Single(p => p.Key == "conv2.weight").Value);

        var seq = new Sequential(new Backprop.Nn.Linear(4, 3), new Relu(), new Backprop.Nn.Linear(3, 2, bias: false));
        Assert.Equal(["0.weight", "0.bias", "2.weight"], seq.NamedParameters().Select(p => p.Key).ToArray());

        var small = new SmallNet(new Generator(2));
        Assert.Equal(["conv1.weight", "conv1.bias", "block.0.weight", "block.0.bias", "fc.weight", "fc.bias"],
            small.NamedParameters().Select(p => p.Key).ToArray());
        Assert.Equal(["block.0.running_mean", "block.0.running_var"], small.NamedBuffers().Select(b => b.Key).ToArray());
    }

    [Fact]
    public void ParameterCounts()
    {
        Assert.Equal(520, new Backprop.Nn.Conv2d(1, 20, 5).ParameterCount());
        Assert.Equal(25050, new Backprop.Nn.Conv2d(20, 50, 5).ParameterCount());
        Assert.Equal(400500, new Backprop.Nn.Linear(800, 500).ParameterCount());
        Assert.Equal(400000, new Backprop.Nn.Linear(800, 500, bias: false).ParameterCount());
        Assert.Equal(8 * 1 * 3 * 3, new Backprop.Nn.Conv2d(8, 8, 3, groups: 8, bias: false).ParameterCount());
        Assert.Equal(6 * 2 * 3 * 3 + 6, new Backprop.Nn.Conv2d(4, 6, 3, groups: 2).ParameterCount());
        Assert.Equal(520 + 25050 + 400500 + 5010, new LeNet(new Generator(1)).ParameterCount());
        Assert.Equal(6, new BatchNorm2d(3).ParameterCount());
    }

    [Fact]
    public void LeNetRunsEndToEnd()
    {
        var net = new LeNet(new Generator(4));
        var y = net.Forward(Tensor.Randn(new Generator(5), 2, 1, 28, 28));
        Assert.Equal(new Shape(2, 10), y.Shape);
    }

    [Fact]
    public void ToStringShowsNonDefaultArguments()
    {
        Assert.Equal("Conv2d(1, 20, kernel=5)", new Backprop.Nn.Conv2d(1, 20, 5).ToString());
        Assert.Equal("Conv2d(3, 8, kernel=3, stride=2, padding=1)", new Backprop.Nn.Conv2d(3, 8, 3, stride: 2, padding: 1).ToString());
        Assert.Equal("Conv2d(4, 4, kernel=3, dilation=2, groups=4, bias=false)", new Backprop.Nn.Conv2d(4, 4, 3, dilation: 2, groups: 4, bias: false).ToString());
        Assert.Equal("Conv2d(3, 8, kernel=(3, 2), stride=(2, 1))", new Backprop.Nn.Conv2d(3, 8, (3, 2), (2, 1), (0, 0), (1, 1)).ToString());
        Assert.Equal("Linear(800, 500)", new Backprop.Nn.Linear(800, 500).ToString());
        Assert.Equal("Linear(3, 2, bias=false)", new Backprop.Nn.Linear(3, 2, bias: false).ToString());
        Assert.Equal("MaxPool2d(kernel=2)", new MaxPool2d(2).ToString());
        Assert.Equal("MaxPool2d(kernel=3, stride=2, ceilMode=true)", new MaxPool2d(3, 2, ceilMode: true).ToString());
        Assert.Equal("AvgPool2d(kernel=3, stride=1, padding=1, countIncludePad=false)", new AvgPool2d(3, 1, 1, countIncludePad: false).ToString());
        Assert.Equal("BatchNorm2d(16)", new BatchNorm2d(16).ToString());
        Assert.Equal("Dropout(p=0.5)", new Dropout().ToString());
        string seq = new Sequential(new Backprop.Nn.Linear(4, 3), new Relu()).ToString();
        output.WriteLine(seq);
        Assert.Equal($"Sequential({Environment.NewLine}  (0): Linear(4, 3){Environment.NewLine}  (1): Relu(){Environment.NewLine})", seq);
    }

    [Fact]
    public void TrainAndEvalPropagate()
    {
        var net = new SmallNet(new Generator(6));
        Assert.All(net.NamedModules(), m => Assert.True(m.Value.IsTraining));
        net.Eval();
        Assert.All(net.NamedModules(), m => Assert.False(m.Value.IsTraining));
        Assert.False(net.Block[2].IsTraining);
        net.Train();
        Assert.All(net.NamedModules(), m => Assert.True(m.Value.IsTraining));
        net.Block.Train(false);
        Assert.True(net.IsTraining);
        Assert.False(net.Block[0].IsTraining);
        Assert.True(net.Conv1.IsTraining);
    }

    [Fact]
    public void DropoutIsIdentityInEval()
    {
        var drop = new Dropout(0.5f, new Generator(7));
        var x = Tensor.Uniform(new Generator(8), 1f, 2f, 4, 50);
        var train = drop.Forward(x).ToArray();
        Assert.Contains(0f, train);
        Assert.Contains(train, v => v > 2f);   // survivors scaled by 2
        drop.Eval();
        Assert.Equal(x.ToArray(), drop.Forward(x).ToArray());
    }

    [Fact]
    public void BatchNorm2dRunningStatistics()
    {
        var bn = new BatchNorm2d(2);
        Assert.Equal([0f, 0f], bn.RunningMean.ToArray());
        Assert.Equal([1f, 1f], bn.RunningVar.ToArray());
        var x = Tensor.Normal(new Generator(9), 2f, 3f, 3, 2, 2, 2);
        float[] xd = x.ToArray();
        var mean = new double[2];
        var var = new double[2];
        for (int c = 0; c < 2; c++)
        {
            var vals = Enumerable.Range(0, 3).SelectMany(n => Enumerable.Range(0, 4).Select(i => (double)xd[(n * 2 + c) * 4 + i])).ToArray();
            mean[c] = vals.Average();
            var[c] = vals.Sum(v => (v - mean[c]) * (v - mean[c])) / (vals.Length - 1);   // unbiased
        }
        var yTrain = bn.Forward(x);
        TestTensors.AssertClose(new[] { 0.1 * mean[0], 0.1 * mean[1] }, bn.RunningMean.ToArray(), 1e-5, "running mean after one step");
        TestTensors.AssertClose(new[] { 0.9 + 0.1 * var[0], 0.9 + 0.1 * var[1] }, bn.RunningVar.ToArray(), 1e-5, "running var after one step");
        // Training output is normalized by the batch: per channel mean 0.
        float[] yt = yTrain.ToArray();
        for (int c = 0; c < 2; c++)
            Assert.Equal(0, Enumerable.Range(0, 3).SelectMany(n => Enumerable.Range(0, 4).Select(i => (double)yt[(n * 2 + c) * 4 + i])).Average(), 5);

        bn.Forward(x);
        TestTensors.AssertClose(new[] { 0.19 * mean[0], 0.19 * mean[1] }, bn.RunningMean.ToArray(), 1e-5, "running mean after two steps");

        bn.Eval();
        float[] rm = bn.RunningMean.ToArray(), rv = bn.RunningVar.ToArray();
        bn.Weight!.AsSpan()[1] = 2f;
        bn.Bias!.AsSpan()[0] = 0.5f;
        var y = bn.Forward(x).ToArray();
        var expected = new double[xd.Length];
        for (int n = 0; n < 3; n++)
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < 4; i++)
                {
                    int at = (n * 2 + c) * 4 + i;
                    expected[at] = (xd[at] - rm[c]) / Math.Sqrt(rv[c] + 1e-5) * (c == 1 ? 2 : 1) + (c == 0 ? 0.5 : 0);
                }
        TestTensors.AssertClose(expected, y, 1e-5, "batch norm eval");
        Assert.Equal(rm, bn.RunningMean.ToArray());
        Assert.Equal(rv, bn.RunningVar.ToArray());
    }

    [Fact]
    public void StateDictRoundTrips()
    {
        var a = new SmallNet(new Generator(10));
        a.Forward(Tensor.Randn(new Generator(11), 2, 2, 4, 4));   // moves the running statistics
        var b = new SmallNet(new Generator(12));
        Assert.NotEqual(a.Conv1.Weight.ToArray(), b.Conv1.Weight.ToArray());
        var state = a.StateDict();
        Assert.Equal(["conv1.weight", "conv1.bias", "block.0.weight", "block.0.bias", "fc.weight", "fc.bias", "block.0.running_mean", "block.0.running_var"],
            state.Keys.ToArray());
        b.LoadStateDict(state);
        foreach (var (name, t) in b.StateDict()) Assert.Equal(state[name].ToArray(), t.ToArray());
        // The copy does not share storage.
        a.Conv1.Weight.AsSpan()[0] += 1;
        Assert.NotEqual(a.Conv1.Weight[0, 0, 0, 0], b.Conv1.Weight[0, 0, 0, 0]);
    }

    [Fact]
    public void LoadStateDictErrorsNameTheEntry()
    {
        var net = new SmallNet(new Generator(13));
        var before = net.Conv1.Weight.ToArray();
        var good = new SmallNet(new Generator(14)).StateDict();

        var missing = new Dictionary<string, Tensor>(good);
        missing.Remove("conv1.bias");
        missing["conv1.weight"] = Tensor.Zeros(3, 2, 3, 3);
        var ex = Assert.Throws<ArgumentException>(() => net.LoadStateDict(missing));
        Assert.Contains("conv1.bias", ex.Message);
        Assert.Contains("missing", ex.Message);
        Assert.Equal(before, net.Conv1.Weight.ToArray());   // nothing changed

        var extra = new Dictionary<string, Tensor>(good) { ["extra.weight"] = Tensor.Zeros(1) };
        ex = Assert.Throws<ArgumentException>(() => net.LoadStateDict(extra));
        Assert.Contains("extra.weight", ex.Message);
        net.LoadStateDict(extra, strict: false);
        Assert.Equal(good["fc.weight"].ToArray(), net.Fc.Weight.ToArray());

        var misShaped = new Dictionary<string, Tensor>(good) { ["fc.weight"] = Tensor.Zeros(2, 47) };
        ex = Assert.Throws<ArgumentException>(() => net.LoadStateDict(misShaped));
        Assert.Contains("fc.weight", ex.Message);
        Assert.Contains("(2, 47)", ex.Message);
        Assert.Contains("(2, 48)", ex.Message);
        Assert.Throws<ArgumentException>(() => net.LoadStateDict(misShaped, strict: false));
    }

    [Fact]
    public void RequiresGradFalseFreezes()
    {
        var net = new SmallNet(new Generator(15));
        long all = net.ParameterCount();
        net.Conv1.RequiresGrad(false);
        Assert.Equal(all - net.Conv1.ParameterCount(), net.ParameterCount(trainableOnly: true));
        var loss = Backprop.Functional.CrossEntropy(net.Forward(Tensor.Randn(new Generator(16), 2, 2, 4, 4)), [0, 1]);
        loss.Backward();
        Assert.Null(net.Conv1.Weight.Grad);
        Assert.Null(net.Conv1.Bias!.Grad);
        Assert.NotNull(net.Fc.Weight.Grad);
        Assert.NotNull(net.Block[0].NamedParameters().First().Value.Grad);
        net.ZeroGrad();
        Assert.Null(net.Fc.Weight.Grad);

        // A fully frozen net records no graph.
        net.RequiresGrad(false);
        var y = net.Forward(Tensor.Randn(new Generator(17), 2, 2, 4, 4));
        Assert.Null(y.GradFn);
        Assert.Equal(0, net.ParameterCount(trainableOnly: true));
    }

    [Fact]
    public void LayerGradientsThroughModules()
    {
        // Module parameters are leaves the gradient checker can perturb in place.
        var conv = new Backprop.Nn.Conv2d(2, 3, 3, stride: 2, padding: 1, generator: new Generator(18));
        var x = TestTensors.Leaf(new Generator(19), 2, 2, 5, 5);
        GradientCheck.Check(_ => conv.Forward(x), [x, conv.Weight, conv.Bias!], output, "Conv2d module", ["input", "weight", "bias"]);
        var bn = new BatchNorm2d(3);
        bn.Weight!.AsSpan()[1] = 1.5f;
        var h = TestTensors.Leaf(new Generator(20), 2, 3, 3, 2);
        GradientCheck.Check(_ => bn.Forward(h), [h, bn.Weight, bn.Bias!], output, "BatchNorm2d module (train)", ["input", "weight", "bias"]);
        // A Dropout module keeps its generator; reseeding it before every forward repeats the mask.
        var gen = new Generator(21);
        var drop = new Dropout(0.4f, gen);
        var d = TestTensors.Leaf(new Generator(22), 3, 7);
        GradientCheck.Check(_ => drop.Forward(d), [d], output, "Dropout module", ["input"], beforeForward: () => gen.Seed(21));
        Assert.Contains(0f, d.Grad!.ToArray());
    }
}
