namespace Backprop.Data;

/// <summary>
/// A dataset's files are neither in the cache nor obtainable from any source. The message lists each
/// attempt and why it failed, and says how to put the files in the cache by hand.
/// </summary>
public sealed class DatasetUnavailableException : IOException
{
    public DatasetUnavailableException(string message, IReadOnlyList<string> attempts) : base(message)
    {
        Attempts = attempts;
    }

    /// <summary>One line per place tried: what it was and why it failed.</summary>
    public IReadOnlyList<string> Attempts { get; }
}
