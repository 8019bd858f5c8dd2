using System.Text.RegularExpressions;

namespace Backprop.Tests.Docs;

/// <summary>How a ```csharp block is tested: compiled and run, compiled only, or (for fragments) neither.</summary>
public enum CodeBlockMode
{
    /// <summary>```csharp: compiled and run.</summary>
    Run,
    /// <summary>```csharp no-run: compiled, not run (needs MPI, a dataset folder, a long run...).</summary>
    CompileOnly,
    /// <summary>```csharp fragment: an excerpt with elisions (<c>...</c>), shown for reading only.</summary>
    Fragment,
}

/// <summary>One ```csharp block of a Markdown file: where it is, how it is tested, its code.</summary>
/// <param name="File">The Markdown file, relative to the repository root (forward slashes).</param>
/// <param name="Line">The 1-based line of the block's first code line.</param>
public sealed record MarkdownCodeBlock(string File, int Line, CodeBlockMode Mode, string Code)
{
    /// <summary>Names the block in test output: <c>docs/getting-started.md:12</c>.</summary>
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>Finds the C# blocks of the repository's user documentation (README.md and docs/*.md).</summary>
public static partial class MarkdownCodeBlocks
{
    [GeneratedRegex(@"^(?<indent>\s*)```(?<info>.*)$")]
    private static partial Regex Fence();

    /// <summary>The repository root: the nearest folder above the test binaries that holds Backprop.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Backprop.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No Backprop.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>README.md and every docs/*.md (not the generated docs/api reference), in a stable order.</summary>
    public static IReadOnlyList<string> DocumentFiles(string root)
    {
        var files = new List<string> { "README.md" };
        files.AddRange(Directory.GetFiles(Path.Combine(root, "docs"), "*.md")
            .Select(f => "docs/" + Path.GetFileName(f)).Order(StringComparer.Ordinal));
        return files;
    }

    /// <summary>Every ```csharp block of every documentation file.</summary>
    public static IReadOnlyList<MarkdownCodeBlock> All(string root) =>
        DocumentFiles(root).SelectMany(f => Parse(f, File.ReadAllLines(Path.Combine(root, f)))).ToList();

    /// <summary>The ```csharp blocks of one file's lines; other fences (```bash, plain ```) are skipped.</summary>
    public static IEnumerable<MarkdownCodeBlock> Parse(string file, string[] lines)
    {
        for (int i = 0; i < lines.Length; i++)
        {
            var open = Fence().Match(lines[i]);
            if (!open.Success) continue;
            string[] info = open.Groups["info"].Value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int indent = open.Groups["indent"].Length;
            int start = i + 1;
            int end = start;
            while (end < lines.Length && !Fence().IsMatch(lines[end])) end++;
            if (end == lines.Length)
                throw new InvalidDataException($"{file}:{i + 1}: a code block is opened and never closed.");
            i = end;
            if (info.Length == 0 || info[0] is not ("csharp" or "cs" or "c#")) continue;
            var mode = info.Length > 1 ? info[1] switch
            {
                "no-run" => CodeBlockMode.CompileOnly,
                "fragment" => CodeBlockMode.Fragment,
                _ => throw new InvalidDataException($"{file}:{i + 1}: unknown code block marker '{info[1]}' (no-run or fragment)."),
            } : CodeBlockMode.Run;
            var code = string.Join('\n', lines[start..end].Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
            yield return new MarkdownCodeBlock(file, start + 1, mode, code);
        }
    }
}
