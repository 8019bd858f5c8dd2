namespace Backprop.Data;

/// <summary>
/// Where datasets are cached: the directory named by the <c>BACKPROP_DATA</c> environment variable, or
/// <c>~/.backprop/data</c> when it is unset. Each dataset has a subdirectory (<c>mnist/</c>, <c>fashion-mnist/</c>).
/// </summary>
public static class DataDirectory
{
    /// <summary>The environment variable that overrides the default data directory.</summary>
    public const string EnvironmentVariable = "BACKPROP_DATA";

    /// <summary>
    /// <paramref name="dataDirectory"/> when given, else <c>$BACKPROP_DATA</c> when set, else <c>~/.backprop/data</c>.
    /// </summary>
    public static string Resolve(string? dataDirectory = null)
    {
        if (!string.IsNullOrEmpty(dataDirectory)) return Path.GetFullPath(dataDirectory);
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home)) home = Path.GetTempPath();
        return Path.Combine(home, ".backprop", "data");
    }
}
