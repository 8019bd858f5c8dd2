using System.Security.Cryptography;
using System.Text;

namespace Backprop.Distributed;

/// <summary>
/// Refuses a job whose ranks were not given the same setup (solver file, model, parameter shapes): every rank
/// hashes its own description, the hashes are gathered, and if any differs from rank 0's, every rank throws the
/// same <see cref="MpiException"/>, naming the ranks that differ and what each one has. Run it once, before training.
/// </summary>
public static class SetupCheck
{
    // Each rank also sends this many bytes of its summary, so the message can say what differs.
    private const int SummaryBytes = 240;

    /// <summary>
    /// Compares <paramref name="setup"/> (everything that must match, e.g. the solver text and each parameter's name
    /// and shape) across ranks; <paramref name="summary"/> is a short human description used in the error.
    /// </summary>
    public static void Verify(Communicator communicator, string what, string setup, string summary)
    {
        if (Differences(communicator, setup, summary) is not { } ranks) return;
        throw new MpiException(
            $"The ranks were given different {what}s, so they cannot train one model together; refused before training. " +
            $"{ranks}. Start every rank with the same files.");
    }

    /// <summary>Null when every rank's <paramref name="setup"/> hashes as rank 0's; else "rank 0: summary; rank k: summary".</summary>
    internal static string? Differences(Communicator communicator, string setup, string summary)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        const int slot = 32 + SummaryBytes;
        var mine = new byte[slot];
        SHA256.HashData(Encoding.UTF8.GetBytes(setup)).CopyTo(mine, 0);
        var text = Encoding.UTF8.GetBytes(summary);
        text.AsSpan(0, Math.Min(text.Length, SummaryBytes)).CopyTo(mine.AsSpan(32));
        var all = new byte[slot * communicator.Size];
        communicator.AllGather(mine, all);
        var rootDigest = all[..32];
        var differing = Enumerable.Range(1, communicator.Size - 1)
            .Where(r => !all.AsSpan(r * slot, 32).SequenceEqual(rootDigest)).ToList();
        if (differing.Count == 0) return null;
        string Describe(int rank) => $"rank {rank}: {Encoding.UTF8.GetString(all, rank * slot + 32, SummaryBytes).TrimEnd('\0')}";
        return string.Join("; ", new[] { 0 }.Concat(differing).Select(Describe));
    }
}
