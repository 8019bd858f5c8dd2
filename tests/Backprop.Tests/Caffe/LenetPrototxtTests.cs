using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Tests.Caffe;

public class LenetPrototxtTests
{
    [Fact]
    public void TrainTestNetParsesIntoEveryLayerAndSetting()
    {
        NetParameter net = Prototxt.Parse<NetParameter>(LenetPrototxts.TrainTest, "lenet_train_test.prototxt");

        Assert.Equal("LeNet", net.Name);
        Assert.Equal(
            new[] { "mnist", "mnist", "conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "accuracy", "loss" },
            net.Layer.Select(l => l.Name));
        Assert.Equal(
            new[] { "Data", "Data", "Convolution", "Pooling", "Convolution", "Pooling", "InnerProduct", "ReLU", "InnerProduct", "Accuracy", "SoftmaxWithLoss" },
            net.Layer.Select(l => l.Type));

        LayerParameter train = net.Layer[0];
        Assert.Equal(new[] { "data", "label" }, train.Top);
        Assert.Empty(train.Bottom);
        Assert.Equal(Phase.Train, Assert.Single(train.Include).Phase);
        Assert.True(Assert.Single(train.Include).HasPhase);
        Assert.Equal(0.00390625f, train.TransformParam.Scale);
        Assert.Equal("examples/mnist/mnist_train_lmdb", train.DataParam.Source);
        Assert.Equal(64u, train.DataParam.BatchSize);
        Assert.Equal(DataParameter.Types.DB.Lmdb, train.DataParam.Backend);

        LayerParameter test = net.Layer[1];
        Assert.Equal(Phase.Test, Assert.Single(test.Include).Phase);
        Assert.Equal("examples/mnist/mnist_test_lmdb", test.DataParam.Source);
        Assert.Equal(100u, test.DataParam.BatchSize);

        ConvolutionParameter conv1 = net.Layer[2].ConvolutionParam;
        Assert.Equal(new[] { 1f, 2f }, net.Layer[2].Param.Select(p => p.LrMult));
        Assert.False(net.Layer[2].Param[0].HasDecayMult);
        Assert.Equal(1f, net.Layer[2].Param[0].DecayMult); // schema default
        Assert.Equal(20u, conv1.NumOutput);
        Assert.Equal(new uint[] { 5 }, conv1.KernelSize);
        Assert.Equal(new uint[] { 1 }, conv1.Stride);
        Assert.Empty(conv1.Pad);
        Assert.Equal("xavier", conv1.WeightFiller.Type);
        Assert.Equal("constant", conv1.BiasFiller.Type);
        Assert.True(conv1.BiasTerm); // schema default
        Assert.Equal(1u, conv1.Group);
        Assert.Equal(50u, net.Layer[4].ConvolutionParam.NumOutput);

        PoolingParameter pool1 = net.Layer[3].PoolingParam;
        Assert.Equal(PoolingParameter.Types.PoolMethod.Max, pool1.Pool);
        Assert.True(pool1.HasPool);
        Assert.Equal(2u, pool1.KernelSize);
        Assert.Equal(2u, pool1.Stride);
        Assert.Equal(PoolingParameter.Types.RoundMode.Ceil, pool1.RoundMode); // Caffe rounds up by default

        Assert.Equal(500u, net.Layer[6].InnerProductParam.NumOutput);
        Assert.Equal("xavier", net.Layer[6].InnerProductParam.WeightFiller.Type);
        Assert.Equal(10u, net.Layer[8].InnerProductParam.NumOutput);

        LayerParameter relu = net.Layer[7];
        Assert.Equal(new[] { "ip1" }, relu.Bottom);
        Assert.Equal(new[] { "ip1" }, relu.Top); // in place

        LayerParameter accuracy = net.Layer[9];
        Assert.Equal(new[] { "ip2", "label" }, accuracy.Bottom);
        Assert.Equal(new[] { "accuracy" }, accuracy.Top);
        Assert.Equal(Phase.Test, Assert.Single(accuracy.Include).Phase);

        LayerParameter loss = net.Layer[10];
        Assert.Equal(new[] { "ip2", "label" }, loss.Bottom);
        Assert.Empty(loss.Include);
        Assert.Null(loss.LossParam);
    }

    [Fact]
    public void SolverParsesIntoItsSettings()
    {
        SolverParameter solver = Prototxt.Parse<SolverParameter>(LenetPrototxts.Solver, "lenet_solver.prototxt");

        Assert.Equal("examples/mnist/lenet_train_test.prototxt", solver.Net);
        Assert.Equal(new[] { 100 }, solver.TestIter);
        Assert.Equal(500, solver.TestInterval);
        Assert.Equal(0.01f, solver.BaseLr);
        Assert.Equal(0.9f, solver.Momentum);
        Assert.Equal(0.0005f, solver.WeightDecay);
        Assert.Equal("inv", solver.LrPolicy);
        Assert.Equal(0.0001f, solver.Gamma);
        Assert.Equal(0.75f, solver.Power);
        Assert.Equal(100, solver.Display);
        Assert.Equal(10000, solver.MaxIter);
        Assert.Equal(5000, solver.Snapshot);
        Assert.Equal("examples/mnist/lenet", solver.SnapshotPrefix);
        Assert.Equal(SolverParameter.Types.SolverMode.Cpu, solver.SolverMode);

        // Unset fields report Caffe's defaults.
        Assert.False(solver.HasType);
        Assert.Equal("SGD", solver.Type);
        Assert.Equal(1, solver.IterSize);
        Assert.Equal(-1f, solver.ClipGradients);
        Assert.Equal(-1L, solver.RandomSeed);
        Assert.Equal(1e-8f, solver.Delta);
        Assert.Equal(0.999f, solver.Momentum2);
        Assert.Equal("L2", solver.RegularizationType);
        Assert.True(solver.TestInitialization);
        Assert.True(solver.SnapshotAfterTrain);
        Assert.Equal(SolverParameter.Types.SnapshotFormat.Binaryproto, solver.SnapshotFormat);
    }

    [Fact]
    public void NetAndSolverRoundTripThroughFormat()
    {
        NetParameter net = Prototxt.Parse<NetParameter>(LenetPrototxts.TrainTest);
        string text = Prototxt.Format(net);
        Assert.Equal(net, Prototxt.Parse<NetParameter>(text));
        // Caffe's own printer gives the same layout as the shipped file.
        Assert.Equal(LenetPrototxts.TrainTest.ReplaceLineEndings("\n"), text);

        SolverParameter solver = Prototxt.Parse<SolverParameter>(LenetPrototxts.Solver);
        Assert.Equal(solver, Prototxt.Parse<SolverParameter>(Prototxt.Format(solver)));
    }

    [Fact]
    public void ParseFileNamesThePathInErrors()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lenet_solver_{Guid.NewGuid():N}.prototxt");
        try
        {
            File.WriteAllText(path, LenetPrototxts.Solver);
            Assert.Equal(10000, Prototxt.ParseFile<SolverParameter>(path).MaxIter);

            File.WriteAllText(path, "net: \"x\"\nmax_iter: ten\n");
            var error = Assert.Throws<PrototxtException>(() => Prototxt.ParseFile<SolverParameter>(path));
            Assert.Equal(path, error.FileName);
            Assert.Equal((2, 11), (error.Line, error.Column));
            Assert.StartsWith($"{path}:2:11: ", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
