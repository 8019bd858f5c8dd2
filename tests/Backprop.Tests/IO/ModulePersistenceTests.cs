using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Tests.IO;

public class ModulePersistenceTests
{
    private sealed class Inner : Module
    {
        public Inner(float scale) => RegisterParameter("scale", new Parameter(Tensor.FromArray([scale], 1)));
        public override Tensor Forward(Tensor input) => input;
    }

    private sealed class Tiny : Module
    {
        public Tiny(float seed)
        {
            RegisterParameter("weight", new Parameter(Tensor.FromArray(Enumerable.Range(0, 6).Select(i => seed + i).ToArray(), 2, 3)));
            RegisterParameter("bias", new Parameter(Tensor.FromArray([seed * 2, seed * 3, seed * 4], 3)));
            RegisterBuffer("running", Tensor.FromArray([seed - 1, seed - 2, seed - 3], 3));
            RegisterModule("inner", new Inner(seed * 10));
        }

        public override Tensor Forward(Tensor input) => input;
    }

    private static Dictionary<string, float[]> Values(Module m) => m.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());

    [Fact]
    public void SaveThenLoadRestoresParametersAndBuffers()
    {
        using var dir = new TempDirectory();
        string path = dir.File("tiny.safetensors");
        var source = new Tiny(1.5f);
        var target = new Tiny(-7f);

        source.Save(path);
        Assert.Equal(["bias", "inner.scale", "running", "weight"], SafeTensors.Read(path).Keys.Order());
        target.Load(path);

        Assert.Equal(Values(source), Values(target));
        Assert.Equal(new Shape(2, 3), target.StateDict()["weight"].Shape);
    }

    [Fact]
    public void LoadWithAMissingEntryNamesItAndTheFileAndChangesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("missing.safetensors");
        var state = new Tiny(1f).StateDict();
        state.Remove("bias");
        SafeTensors.Write(path, state);

        AssertLoadFails(path, "missing 'bias'");
    }

    [Fact]
    public void LoadWithAnExtraEntryNamesItAndTheFileAndChangesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("extra.safetensors");
        var state = new Tiny(1f).StateDict();
        state["inner.extra"] = Tensor.Zeros(2);
        SafeTensors.Write(path, state);

        AssertLoadFails(path, "unexpected 'inner.extra'");
    }

    [Fact]
    public void LoadWithAMisshapedEntryNamesItAndTheFileAndChangesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("shape.safetensors");
        var state = new Tiny(1f).StateDict();
        state["weight"] = Tensor.Zeros(3, 2);
        SafeTensors.Write(path, state);

        AssertLoadFails(path, "'weight' has shape (3, 2) in the state but (2, 3) in the module");
    }

    [Fact]
    public void LoadOfACorruptFileNamesTheFileAndChangesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("corrupt.safetensors");
        new Tiny(1f).Save(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);

        var module = new Tiny(3f);
        var before = Values(module);
        var e = Assert.Throws<InvalidDataException>(() => module.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Equal(before, Values(module));
    }

    private static void AssertLoadFails(string path, string expected)
    {
        var module = new Tiny(3f);
        var before = Values(module);
        var e = Assert.Throws<InvalidDataException>(() => module.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Equal(before, Values(module));
    }
}
