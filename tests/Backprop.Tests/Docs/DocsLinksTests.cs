using System.Text.RegularExpressions;

namespace Backprop.Tests.Docs;

/// <summary>The documentation's index lists every guide, and its links and pictures point at files that exist.</summary>
public sealed partial class DocsLinksTests
{
    [GeneratedRegex(@"\]\((?<target>[^)#\s]+)(#[^)]*)?\)")]
    private static partial Regex Link();

    [Fact]
    public void IndexLinksEveryGuide()
    {
        string root = MarkdownCodeBlocks.RepositoryRoot();
        string index = File.ReadAllText(Path.Combine(root, "docs", "README.md"));
        var linked = Link().Matches(index).Select(m => m.Groups["target"].Value).ToHashSet();
        var missing = Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Select(Path.GetFileName)
            .Where(f => f != "README.md" && !linked.Contains(f!)).ToList();
        Assert.True(missing.Count == 0, "docs/README.md does not link: " + string.Join(", ", missing));
    }

    [Fact]
    public void RelativeLinksAndPicturesExist()
    {
        string root = MarkdownCodeBlocks.RepositoryRoot();
        var broken = new List<string>();
        foreach (var file in MarkdownCodeBlocks.DocumentFiles(root))
        {
            string folder = Path.GetDirectoryName(Path.Combine(root, file))!;
            foreach (Match m in Link().Matches(File.ReadAllText(Path.Combine(root, file))))
            {
                string target = m.Groups["target"].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                string path = Path.GetFullPath(Path.Combine(folder, target));
                if (!File.Exists(path) && !Directory.Exists(path)) broken.Add($"{file}: {target}");
            }
        }
        Assert.True(broken.Count == 0, "Links to missing files:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void PicturesStaySmall()
    {
        var images = new DirectoryInfo(Path.Combine(MarkdownCodeBlocks.RepositoryRoot(), "docs", "images"));
        long total = images.GetFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        Assert.True(total < 1_500_000, $"docs/images holds {total:N0} bytes; keep the pictures under 1.5 MB.");
    }
}
