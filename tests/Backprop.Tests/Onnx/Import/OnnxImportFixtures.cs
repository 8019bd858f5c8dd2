namespace Backprop.Tests.Onnx.Import;

/// <summary>
/// The files Fixtures/make_fixtures.py wrote with PyTorch 1.13 (found from the source tree, above the test assembly):
/// name.onnx and name.io.bin, the fixed input and PyTorch's outputs (int32 rank, int32 dims, float32 values each).
/// </summary>
internal static class OnnxImportFixtures
{
    public static string Directory
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Backprop.sln")))
                    return Path.Combine(d.FullName, "tests", "Backprop.Tests", "Onnx", "Import", "Fixtures");
            throw new DirectoryNotFoundException($"Could not find the repository root (Backprop.sln) above {AppContext.BaseDirectory}.");
        }
    }

    public static string Model(string name) => Path.Combine(Directory, name + ".onnx");

    public static (Tensor Input, IReadOnlyList<Tensor> Outputs) InputOutputs(string name)
    {
        using var reader = new BinaryReader(File.OpenRead(Path.Combine(Directory, name + ".io.bin")));
        var input = ReadTensor(reader);
        var outputs = new List<Tensor>();
        while (reader.BaseStream.Position < reader.BaseStream.Length) outputs.Add(ReadTensor(reader));
        return (input, outputs);
    }

    private static Tensor ReadTensor(BinaryReader reader)
    {
        var dims = new int[reader.ReadInt32()];
        for (int i = 0; i < dims.Length; i++) dims[i] = reader.ReadInt32();
        var values = new float[dims.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++) values[i] = reader.ReadSingle();
        return Tensor.FromArray(values, dims);
    }
}
