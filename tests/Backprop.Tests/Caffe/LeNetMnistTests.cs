using System.Diagnostics;
using Backprop.Caffe;
using Backprop.Caffe.Lmdb;
using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using Backprop.Data;
using Xunit.Abstractions;

namespace Backprop.Tests.Caffe;

/// <summary>Caffe's own LeNet files, on real MNIST (fetched into the data cache when absent), learn in a few hundred iterations.</summary>
public sealed class LeNetMnistTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "backprop-lenet-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    internal static string RepositoryFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Backprop.sln"))) return Path.Combine(d.FullName, relative);
        throw new FileNotFoundException($"Could not find the repository root above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public void LeNetFromCaffesPrototxtPasses95PercentAfter300Iterations()
    {
        var log = new Progress<string>(output.WriteLine);
        var train = Mnist.EnsureFiles(MnistSplit.Train, log: log);
        var test = Mnist.EnsureFiles(MnistSplit.Test, log: log);
        MnistToLmdb.Convert(train.ImagesPath, train.LabelsPath, Path.Combine(dir, "mnist_train_lmdb"));
        MnistToLmdb.Convert(test.ImagesPath, test.LabelsPath, Path.Combine(dir, "mnist_test_lmdb"));

        var net = Prototxt.ParseFile<NetParameter>(RepositoryFile("examples/mnist/lenet_train_test.prototxt"));
        foreach (var layer in net.Layer.Where(l => l.Type == "Data"))
            layer.DataParam.Source = Path.Combine(dir, Path.GetFileName(layer.DataParam.Source));
        var solver = Prototxt.ParseFile<SolverParameter>(RepositoryFile("examples/mnist/lenet_solver.prototxt"));
        Assert.Equal(64u, net.Layer[0].DataParam.BatchSize);
        Assert.Equal(10000, solver.MaxIter);
        solver.ClearNet();
        solver.NetParam = net;
        solver.MaxIter = 300;
        solver.TestInterval = 300;
        solver.TestIter[0] = 20;   // 2000 test images
        solver.TestInitialization = false;
        solver.Snapshot = 0;
        solver.SnapshotAfterTrain = false;

        var lines = new StringWriter();
        var clock = Stopwatch.StartNew();
        var caffe = new CaffeSolver(solver, log: lines);
        caffe.Solve();
        output.WriteLine(lines.ToString());
        var (_, _, outputs) = caffe.TestResults.Last();
        float accuracy = outputs.Single(o => o.Name == "accuracy").Value;
        output.WriteLine($"test accuracy after 300 iterations: {accuracy:F4} ({clock.Elapsed.TotalSeconds:F1} s)");
        Assert.True(accuracy > 0.95f, $"accuracy {accuracy}");
        Assert.Contains("Iteration 300 (epoch 0.32), Testing net (#0)", lines.ToString());
        Assert.Contains("Iteration 200 (epoch 0.21", lines.ToString());
    }
}
