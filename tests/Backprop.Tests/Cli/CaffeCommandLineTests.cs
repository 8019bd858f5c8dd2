using System.Globalization;
using System.Text.RegularExpressions;
using Backprop.Caffe.Lmdb;
using Backprop.Cli;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

/// <summary>The command line as Caffe users type it: single-dash flags, -gpu, time on deploy nets, convert_mnist_data's form.</summary>
public sealed partial class CaffeCommandLineTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private const string DeployNet = """
        name: "deploy"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 1 dim: 8 dim: 8 } } }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 3 kernel_size: 3 weight_filler { type: "xavier" } } }
        layer { name: "ip1" type: "InnerProduct" bottom: "conv1" top: "ip1" inner_product_param { num_output: 4 weight_filler { type: "xavier" } } }
        layer { name: "prob" type: "Softmax" bottom: "ip1" top: "prob" }
        """;

    // The same kind of net as Caffe wrote deploy files in 2014: net-level input with input_dim, V1 layers.
    private const string OldDeployNet = """
        name: "old_deploy"
        input: "data"
        input_dim: 2 input_dim: 1 input_dim: 8 input_dim: 8
        layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" convolution_param { num_output: 3 kernel_size: 3 } }
        layers { name: "ip1" type: INNER_PRODUCT bottom: "conv1" top: "ip1" inner_product_param { num_output: 4 } }
        layers { name: "prob" type: SOFTMAX bottom: "ip1" top: "prob" }
        """;

    private static double Number(string output, string pattern) =>
        double.Parse(Regex.Match(output, pattern, RegexOptions.Multiline).Groups[1].Value, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(DeployNet)]
    [InlineData(OldDeployNet)]
    public void TimeRunsADeployNetWithCaffesFlagsAndLines(string net)
    {
        string model = dir.File("deploy.prototxt");
        File.WriteAllText(model, net);
        using var run = new CliProcess("time", "-model", model, "-iterations", "3", "-gpu", "0");
        Assert.Equal(0, run.WaitForExit());
        string output = run.Output;
        Assert.Contains("Note: --gpu 0 asked for a GPU; this build of Backprop runs on the CPU", output);
        Assert.Contains("*** Benchmark begins ***", output);
        Assert.Contains("Testing for 3 iterations.", output);
        foreach (string layer in new[] { "conv1", "ip1", "prob" })
        {
            Assert.Matches($@"(?m)^\s*{layer}\tforward: \d+\.\d+ ms\.$", output);
            Assert.Matches($@"(?m)^\s*{layer}\tbackward: \d+\.\d+ ms\.$", output);
        }
        double forward = Number(output, @"^Average Forward pass: (\S+) ms\.$");
        double backward = Number(output, @"^Average Backward pass: (\S+) ms\.$");
        double both = Number(output, @"^Average Forward-Backward: (\S+) ms\.$");
        double total = Number(output, @"^Total Time: (\S+) ms\.$");
        Assert.True(backward > 0, "the conv and ip layers run their backward");
        Assert.True(both >= forward + backward * 0.5, output);
        Assert.Equal(3 * both, total, 0.01);   // the total is the iterations' wall time: iterations x the average
        Assert.Contains("*** Benchmark ends ***", output);
    }

    [Fact]
    public void TrainTakesCaffesSingleDashFlagsAndGoesOnWithoutAGpu()
    {
        File.WriteAllText(dir.File("net.prototxt"), """
            layer { name: "data" type: "DummyData" top: "data" top: "label"
              dummy_data_param { shape { dim: 4 dim: 3 } shape { dim: 4 } data_filler { type: "gaussian" } data_filler { type: "constant" } } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """);
        string solver = dir.File("solver.prototxt");
        File.WriteAllText(solver, $"""
            net: "{dir.File("net.prototxt")}"
            base_lr: 0.1 max_iter: 3 display: 1 solver_mode: GPU solver_type: NESTEROV momentum: 0.9
            snapshot_prefix: "{dir.File("snap")}"
            """);
        using var run = new CliProcess("train", "-solver", solver, "-gpu", "all", "-sigint_effect", "stop", "-sighup_effect=none");
        Assert.Equal(0, run.WaitForExit());
        Assert.Contains("Note: --gpu all asked for a GPU; this build of Backprop runs on the CPU", run.Output);
        Assert.Contains("Trained 3 iterations", run.Output);
        Assert.True(File.Exists(dir.File("snap_iter_3.caffemodel")), run.Output);
    }

    private (string Images, string Labels) WriteIdx(int count)
    {
        string images = dir.File("images-idx3-ubyte"), labels = dir.File("labels-idx1-ubyte");
        var header = new List<byte> { 0, 0, 8, 3, 0, 0, 0, (byte)count, 0, 0, 0, 2, 0, 0, 0, 3 };
        File.WriteAllBytes(images, [.. header, .. Enumerable.Range(0, count * 6).Select(i => (byte)(i * 7))]);
        File.WriteAllBytes(labels, [0, 0, 8, 1, 0, 0, 0, (byte)count, .. Enumerable.Range(0, count).Select(i => (byte)(i % 10))]);
        return (images, labels);
    }

    [Fact]
    public void ConvertMnistTakesConvertMnistDatasForm()
    {
        var (images, labels) = WriteIdx(3);
        string db = dir.File("mnist_lmdb");
        using var run = new CliProcess("convert-mnist", images, labels, db, "-backend", "lmdb");
        Assert.Equal(0, run.WaitForExit());
        using var reader = new LmdbDatumReader(db);
        var records = reader.Records().ToList();
        Assert.Equal(["00000000", "00000001", "00000002"], records.Select(r => r.Key));
        Assert.Equal((1, 2, 3, 2), (records[2].Datum.Channels, records[2].Datum.Height, records[2].Datum.Width, records[2].Datum.Label));
        Assert.Equal(Enumerable.Range(12, 6).Select(i => (byte)(i * 7)), records[2].Datum.Data.ToByteArray());
    }

    [Fact]
    public void AnUnknownBackendAndAHalfGivenPairAreClearErrors()
    {
        var (images, labels) = WriteIdx(1);
        using (var unknown = new CliProcess("convert-mnist", images, labels, dir.File("db"), "--backend", "bdb"))
        {
            Assert.Equal(1, unknown.WaitForExit());
            Assert.Contains("error: --backend must be lmdb or leveldb, got 'bdb'", unknown.Output);
        }
        using var half = new CliProcess("convert-mnist", images);
        Assert.Equal(1, half.WaitForExit());
        Assert.Contains("error: Give all three of IMAGES LABELS OUTDB", half.Output);
    }

    [Fact]
    public void ComputeImageMeanWritesABinaryprotoAndPrintsChannelMeans()
    {
        var (images, labels) = WriteIdx(2);
        string db = dir.File("db");
        MnistToLmdb.Convert(images, labels, db);
        string mean = dir.File("mean.binaryproto");
        using var run = new CliProcess("compute-image-mean", db, mean, "-backend", "lmdb");
        Assert.Equal(0, run.WaitForExit());
        // Pixel i of image k is 7 (6k + i) mod 256: the means of (7i, 7(6 + i)) are 7i + 21.
        Assert.Equal(Enumerable.Range(0, 6).Select(i => 7f * i + 21), Backprop.Caffe.Layers.MeanImage.Load(mean).Values);
        Assert.Contains("Number of channels: 1", run.Output);
        Assert.Contains("mean_value channel [0]: 38.5", run.Output);
    }

    [Fact]
    public void FlagsAnswerToCaffesSpellings()
    {
        Assert.Equal(["-solver"], CaffeArguments.Aliases("--solver"));
        Assert.Equal(["-sigint_effect", "--sigint_effect"], CaffeArguments.Aliases("--sigint-effect"));
    }

    [Fact]
    public void PhaseLevelAndStagesMakeTheNetState()
    {
        var state = CaffeArguments.State("test", 2, ["deploy,small", "extra"]);
        Assert.Equal((Backprop.Caffe.Proto.Phase.Test, 2), (state.Phase, state.Level));
        Assert.Equal(["deploy", "small", "extra"], state.Stage);
        Assert.Contains("--phase must be TRAIN or TEST, got 'VAL'", Assert.Throws<ArgumentException>(() => CaffeArguments.State("VAL", 0, null)).Message);
    }

    [Fact]
    public void TimeBuildsTheNetOfTheStageAsked()
    {
        string model = dir.File("staged.prototxt");
        File.WriteAllText(model, DeployNet + """
            layer { name: "extra" type: "ReLU" bottom: "prob" top: "extra" include { stage: "deploy" } }
            """);
        var output = new StringWriter();
        TimeCommand.Time(new FileInfo(model), 1, CaffeArguments.State("TEST", 0, ["deploy"]), output);
        Assert.Contains("extra\tforward:", output.ToString());
        var without = new StringWriter();
        TimeCommand.Time(new FileInfo(model), 1, CaffeArguments.State("TEST", 0, null), without);
        Assert.DoesNotContain("extra", without.ToString());
    }
}
