using System.Reflection;
using Piece = Backprop.Tests.Docs.DocsCompiler.Piece;

namespace Backprop.Tests.Docs;

/// <summary>Runs alone: blocks run with the current directory set to a scratch folder (they write model files).</summary>
[CollectionDefinition(nameof(DocsCollection), DisableParallelization = true)]
public sealed class DocsCollection;

/// <summary>Every ```csharp block of README.md and docs/*.md compiles, and every block not marked no-run runs.</summary>
[Collection(nameof(DocsCollection))]
public sealed class DocsCodeBlocksTests
{
    // README.md's blocks are excerpts that use variables defined elsewhere; the test supplies them (a block containing
    // the key gets the prelude, and "continues" puts the README's previous block in front of it).
    private static readonly (string Key, bool Continues, string Prelude)[] ReadmeContext =
    [
        ("var history = model.Fit(x, y,", false,
            "var x = Backprop.Tensor.Rand(new Backprop.Generator(7), 10, 64, 64, 3);\n" +
            "var y = Backprop.Tensor.FromArray([0f, 1f, 0f, 1f, 0f, 1f, 0f, 1f, 0f, 1f], 10, 1);"),
        ("var memory = new TensorMemoryPool();", false,
            "using Backprop;\nusing Backprop.Nn;\nusing Backprop.Optim;\n" +
            "var g = new Generator(1);\n" +
            "var net = new Sequential(new Conv2d(1, 4, 5, generator: g), new Flatten(), new Linear(4 * 12 * 12, 3, generator: g));\n" +
            "var optimizer = new Sgd(net.Parameters(), learningRate: 0.01f);\n" +
            "Tensor images = Tensor.Randn(g, 8, 1, 16, 16);\nint[] labels = [0, 1, 2, 0, 1, 2, 0, 1];\nint steps = 3;"),
    ];

    private static readonly Lazy<(IReadOnlyList<MarkdownCodeBlock> Blocks, DocsCompiler.Result Compiled)> Compiled = new(() =>
    {
        var all = MarkdownCodeBlocks.All(MarkdownCodeBlocks.RepositoryRoot());
        var blocks = all.Where(b => b.Mode != CodeBlockMode.Fragment).ToList();
        var sources = blocks.Select(b => Pieces(b, all)).ToList();
        return (blocks, DocsCompiler.Compile(DocsCompiler.Source(sources)));
    });

    private static IReadOnlyList<Piece> Pieces(MarkdownCodeBlock block, IReadOnlyList<MarkdownCodeBlock> all)
    {
        var pieces = new List<Piece>();
        foreach (var (key, continues, prelude) in block.File == "README.md" ? ReadmeContext : [])
        {
            if (!block.Code.Contains(key, StringComparison.Ordinal)) continue;
            if (continues)
            {
                var previous = all.Last(b => b.File == block.File && b.Line < block.Line);
                pieces.Add(new Piece(previous.Code, Located(previous.File), previous.Line));
            }
            pieces.Add(new Piece(prelude, "", 0));
        }
        pieces.Add(new Piece(block.Code, Located(block.File), block.Line));
        return pieces;
    }

    // Compiler errors name the Markdown file by its full path (csc resolves #line paths against its source folder).
    private static string Located(string file) => Path.Combine(MarkdownCodeBlocks.RepositoryRoot(), file);

    /// <summary>The blocks to run, named file:line.</summary>
    public static TheoryData<string> RunnableBlocks()
    {
        var data = new TheoryData<string>();
        foreach (var block in MarkdownCodeBlocks.All(MarkdownCodeBlocks.RepositoryRoot()).Where(b => b.Mode == CodeBlockMode.Run))
            data.Add(block.ToString());
        return data;
    }

    [Fact]
    public void EveryBlockCompiles()
    {
        var (blocks, compiled) = Compiled.Value;
        Assert.NotEmpty(blocks);
        Assert.True(compiled.Assembly != null, "The documentation's C# blocks do not compile:\n" + compiled.Output);
    }

    [Theory]
    [MemberData(nameof(RunnableBlocks))]
    public async Task BlockRuns(string name)
    {
        var (blocks, compiled) = Compiled.Value;
        Assert.True(compiled.Assembly != null, "The documentation's C# blocks do not compile:\n" + compiled.Output);
        int index = blocks.ToList().FindIndex(b => b.ToString() == name);
        var run = compiled.Assembly!.GetType(DocsCompiler.ProgramType(index))!.GetMethod("Run")!;

        string previous = Environment.CurrentDirectory;
        var scratch = Directory.CreateTempSubdirectory("backprop-docs-run-");
        Environment.CurrentDirectory = scratch.FullName;
        try { await (Task)run.Invoke(null, null)!; }
        catch (TargetInvocationException e) { throw new Xunit.Sdk.XunitException($"{name} throws: {e.InnerException}"); }
        finally
        {
            Environment.CurrentDirectory = previous;
            scratch.Delete(recursive: true);
        }
    }

    [Fact]
    public void ParserSortsBlocksByMarker()
    {
        string[] md =
        [
            "text", "```csharp", "var a = 1;", "```", "```bash", "ls", "```",
            "  ```csharp no-run", "  var b = 2;", "  ```", "```csharp fragment", "...", "```",
        ];
        var blocks = MarkdownCodeBlocks.Parse("x.md", md).ToList();
        Assert.Equal([CodeBlockMode.Run, CodeBlockMode.CompileOnly, CodeBlockMode.Fragment], blocks.Select(b => b.Mode));
        Assert.Equal([3, 9, 12], blocks.Select(b => b.Line));
        Assert.Equal("var b = 2;", blocks[1].Code);
    }

    [Fact]
    public void CompilerErrorsNameTheMarkdownLine()
    {
        var source = DocsCompiler.Source([[new Piece("using System;\n\nint x = \"text\";", "docs/x.md", 40)]]);
        var result = DocsCompiler.Compile(source);
        Assert.Null(result.Assembly);
        Assert.Contains("docs/x.md(42,", result.Output);
    }

    [Fact]
    public async Task TypesAfterStatementsGoBesideTheProgram()
    {
        var source = DocsCompiler.Source([[new Piece(
            "var t = new Twice(3);\nif (t.Value != 6) throw new Exception();\nrecord Twice(int Half) { public int Value => 2 * Half; }",
            "docs/y.md", 1)]]);
        var result = DocsCompiler.Compile(source);
        Assert.True(result.Assembly != null, result.Output);
        await (Task)result.Assembly!.GetType(DocsCompiler.ProgramType(0))!.GetMethod("Run")!.Invoke(null, null)!;
    }
}
