using System.Diagnostics;
using Backprop.Nn;
using Backprop.Onnx;
using Backprop.Tests.IO;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export;

/// <summary>
/// Export speed, asserted only loosely (4x the targets: LeNet 50 ms, a 60M-parameter AlexNet 2 s) because other work
/// shares the machine; the times are logged. The weights are streamed: exporting AlexNet allocates far less than its
/// 240 MB of weights.
/// </summary>
public class ExportSpeedTests(ITestOutputHelper log)
{
    [Fact]
    public void LeNetExportsInMilliseconds()
    {
        var net = ExportTestNets.LeNet(new Generator(11));
        using var dir = new TempDirectory();
        string path = dir.File("lenet.onnx");
        OnnxExporter.Export(net, [1, 28, 28], path);   // JIT
        var times = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            OnnxExporter.Export(net, [1, 28, 28], path);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        double median = times.Order().ElementAt(2);
        log.WriteLine($"LeNet export: median {median:F2} ms of 5 ({string.Join(", ", times.Select(t => t.ToString("F2")))})");
        Assert.True(median < 200, $"LeNet export took {median:F1} ms (target 50 ms).");
    }

    [Fact]
    public void SixtyMillionParameterAlexNetExportsInSecondsStreamingItsWeights()
    {
        var g = new Generator(12);
        var net = new Sequential(
            new Conv2d(3, 64, 11, stride: 4, padding: 2, generator: g), new Relu(), new MaxPool2d(3, 2),
            new Conv2d(64, 192, 5, padding: 2, generator: g), new Relu(), new MaxPool2d(3, 2),
            new Conv2d(192, 384, 3, padding: 1, generator: g), new Relu(),
            new Conv2d(384, 256, 3, padding: 1, generator: g), new Relu(),
            new Conv2d(256, 256, 3, padding: 1, generator: g), new Relu(), new MaxPool2d(3, 2),
            new Flatten(), new Dropout(), new Linear(256 * 6 * 6, 4096, generator: g), new Relu(),
            new Dropout(), new Linear(4096, 4096, generator: g), new Relu(), new Linear(4096, 1000, generator: g));
        long parameters = net.ParameterCount();
        Assert.InRange(parameters, 60_000_000, 62_000_000);
        using var dir = new TempDirectory();
        string path = dir.File("alexnet.onnx");
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        OnnxExporter.Export(net, [3, 224, 224], path);
        double seconds = watch.Elapsed.TotalSeconds;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long size = new FileInfo(path).Length;
        log.WriteLine($"AlexNet ({parameters:N0} parameters) export: {seconds:F3} s, {size >> 20} MB file, {allocated >> 10} KB allocated");
        Assert.InRange(size, 4 * parameters, 4 * parameters + (1 << 16));
        Assert.True(allocated < 16 << 20, $"Exporting allocated {allocated >> 20} MB: the weights must be streamed, not buffered.");
        Assert.True(seconds < 8, $"AlexNet export took {seconds:F2} s (target 2 s).");
    }
}
