using Backprop.Caffe;
using Backprop.Caffe.Proto;
using Backprop.Tests.IO;
using Google.Protobuf;

namespace Backprop.Tests.Caffe.Solver;

/// <summary>A .solverstate with fields no solver writes is refused naming the file and the field.</summary>
public sealed class SolverStateReadTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData(-5, 0, "iter is -5")]
    [InlineData(10, -1, "current_step is -1")]
    public void NegativeCountsAreRefusedNamingTheFileAndField(int iter, int step, string expected)
    {
        string path = dir.File("bad.solverstate");
        File.WriteAllBytes(path, new SolverState { Iter = iter, CurrentStep = step, LearnedNet = "m.caffemodel" }.ToByteArray());
        var e = Assert.Throws<CaffeNetException>(() => Snapshots.ReadState(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }
}
