using System.Text;
using System.Text.Json.Nodes;
using Backprop.IO;
using Backprop.Keras;

namespace Backprop.Tests.Keras;

/// <summary>
/// A saved model whose header was tampered with: every value of model_config and compile_config replaced in turn by
/// a hostile one (wrong JSON kind, null, huge or fractional numbers, lone surrogates). Each load must either work
/// or give an InvalidDataException naming the file; no other exception type may escape.
/// </summary>
public sealed class HostileModelFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("keras-hostile-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly string[] Replacements =
        ["null", "\"x\"", "\"\\ud800\"", "1e999", "-1", "3.5", "1e20", "2147483647", "[]", "[null]", "{}", "true", "[[[[[[[[[[1]]]]]]]]]]"];

    [Fact]
    public void EveryTamperedConfigValueLoadsOrGivesInvalidDataException()
    {
        var model = new Sequential(1,
            new Conv2D(2, 3, inputShape: (5, 5, 1)),
            new BatchNormalization(),
            new MaxPooling2D(2),
            new Flatten(),
            new Dropout(0.5),
            new Dense(2, activation: "softmax"));
        model.Compile(new SGD(0.1, 0.9), "sparse_categorical_crossentropy", ["accuracy"]);
        string original = Path.Combine(dir, "model.safetensors");
        model.Save(original);
        var metadata = SafeTensors.ReadMetadata(original);
        var state = model.Network.StateDict();
        string path = Path.Combine(dir, "tampered.safetensors");
        var escaped = new List<string>();
        int tried = 0;
        foreach (string key in new[] { "model_config", "compile_config" })
        {
            var root = JsonNode.Parse(metadata[key])!;
            foreach (string at in Paths(root))
                foreach (string replacement in Replacements)
                {
                    var copy = new Dictionary<string, string>(metadata) { [key] = Replace(root, at, replacement) };
                    SafeTensors.Write(path, state, copy);
                    tried++;
                    try { Sequential.Load(path); }
                    catch (InvalidDataException e) when (e.Message.Contains(path, StringComparison.Ordinal)) { }
                    catch (Exception e) { escaped.Add($"{key} {at} = {replacement}: {e.GetType().Name}: {e.Message}"); }
                }
        }
        Assert.True(tried > 300, $"only {tried} variants");
        Assert.True(escaped.Count == 0, string.Join("\n", escaped.Take(20)));
    }

    [Fact]
    public void InvalidUtf8InTheHeaderGivesInvalidDataExceptionNamingTheFile()
    {
        var model = new Sequential(1, new Dense(2, inputShape: 3));
        string path = Path.Combine(dir, "bad-utf8.safetensors");
        model.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        int at = IndexOf(bytes, "sequential"u8.ToArray());
        bytes[at] = 0xC3;   // a lead byte followed by an ASCII letter
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("UTF-8", e.Message);
        Assert.Contains($"offset {at}", e.Message);
    }

    // Every place a value sits, as a path of property names and indices: "/config/layers/0/config/filters".
    private static IEnumerable<string> Paths(JsonNode node, string prefix = "")
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                {
                    yield return prefix + "/" + k;
                    if (v is not null) foreach (var p in Paths(v, prefix + "/" + k)) yield return p;
                }
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    yield return prefix + "/" + i;
                    if (a[i] is not null) foreach (var p in Paths(a[i]!, prefix + "/" + i)) yield return p;
                }
                break;
        }
    }

    private static string Replace(JsonNode root, string at, string replacement)
    {
        var copy = root.DeepClone();
        var parts = at.Split('/', StringSplitOptions.RemoveEmptyEntries);
        JsonNode parent = copy;
        foreach (var part in parts[..^1]) parent = parent is JsonArray a ? a[int.Parse(part)]! : parent[part]!;
        // Splice raw text in, so values JsonNode would not build itself (1e999, a lone surrogate) get through.
        const string Marker = "\"@@REPLACED@@\"";
        if (parent is JsonArray array) array[int.Parse(parts[^1])] = "@@REPLACED@@";
        else parent[parts[^1]] = "@@REPLACED@@";
        return copy.ToJsonString().Replace(Marker, replacement, StringComparison.Ordinal);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found: " + Encoding.ASCII.GetString(needle));
    }
}
