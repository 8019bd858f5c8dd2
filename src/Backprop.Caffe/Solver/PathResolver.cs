namespace Backprop.Caffe;

/// <summary>
/// Caffe's paths are relative to where caffe runs (its root); Backprop tries the working directory first,
/// then the directories given (the solver's folder and its parents), so a solver runs from anywhere.
/// </summary>
public static class PathResolver
{
    public static string Resolve(string path, string? nearFile)
    {
        if (Path.IsPathRooted(path) || File.Exists(path) || Directory.Exists(path) || nearFile is null) return path;
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(nearFile)); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, path);
            if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
        }
        return path;
    }
}
