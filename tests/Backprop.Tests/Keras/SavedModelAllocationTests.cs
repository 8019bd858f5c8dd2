using Backprop.IO;
using Backprop.Keras;

namespace Backprop.Tests.Keras;

/// <summary>A saved model whose configuration claims more weights than its file holds is refused before the layers allocate them.</summary>
public sealed class SavedModelAllocationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("keras-alloc-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Tampered(string layers)
    {
        var model = new Sequential(1, new Dense(2, inputShape: 3));
        string path = Path.Combine(dir, "tampered.safetensors");
        SafeTensors.Write(path, model.Network.StateDict(), new Dictionary<string, string>
        {
            ["format"] = Sequential.FileFormat,
            ["format_version"] = "1",
            ["model_config"] = $$$"""{"class_name": "Sequential", "config": {"name": "m", "layers": [{{{layers}}}]}}""",
        });
        return path;
    }

    [Fact]
    public void DenseClaimingAGigaweightIsRefusedCheaply()
    {
        string path = Tampered("""{"class_name": "Dense", "config": {"name": "dense", "units": 1000000, "activation": "linear", "use_bias": true, "kernel_initializer": "zeros", "bias_initializer": "zeros", "input_shape": [1000]}}""");
        long size = new FileInfo(path).Length;

        var (e, bytes) = ThreadAllocations.Throws<InvalidDataException>(() => Sequential.Load(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("layer 0", e.Message);
        Assert.Contains("needs 1001000000 weights", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(size), $"allocated {bytes} bytes for a {size}-byte file");
    }

    [Fact]
    public void LaterLayerIsCheckedAgainstWhatTheEarlierOnesLeft()
    {
        // 3 -> 2 fits the file; the second Dense (2 -> 100000) does not.
        string path = Tampered("""
            {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "linear", "use_bias": true, "kernel_initializer": "zeros", "bias_initializer": "zeros", "input_shape": [3]}},
            {"class_name": "Dense", "config": {"name": "dense_1", "units": 100000, "activation": "linear", "use_bias": true, "kernel_initializer": "zeros", "bias_initializer": "zeros"}}
            """);
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("layer 1", e.Message);
        Assert.Contains("'dense_1' (Dense) on input (None, 2) needs 300000 weights", e.Message);
    }
}
