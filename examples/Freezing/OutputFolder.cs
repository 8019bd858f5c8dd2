namespace Freezing;

/// <summary>Where the example writes its .dot files: the folder the user names, else a folder of its own under the temp folder (never the current one).</summary>
public static class OutputFolder
{
    /// <summary><paramref name="given"/> (from <c>--output</c>) when set, else <c>&lt;temp&gt;/backprop-freezing</c>; created either way.</summary>
    public static string Resolve(string? given)
    {
        string folder = string.IsNullOrWhiteSpace(given) ? Path.Combine(Path.GetTempPath(), "backprop-freezing") : given;
        Directory.CreateDirectory(folder);
        return Path.GetFullPath(folder);
    }
}
