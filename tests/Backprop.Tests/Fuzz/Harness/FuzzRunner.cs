using Backprop.Caffe;
using Backprop.Caffe.TextFormat;
using Backprop.Data;

namespace Backprop.Tests.Fuzz.Harness;

/// <summary>What a reader did with one input. The first two are fine; every other one is a bug to fix.</summary>
public enum FuzzVerdict
{
    /// <summary>Read without error.</summary>
    Accepted,
    /// <summary>Refused with an exception the command line reports as one clear line, naming the file.</summary>
    Rejected,
    /// <summary>An exception type the command line does not catch: the user sees a stack trace.</summary>
    Unclean,
    /// <summary>A clean exception whose message does not name the file.</summary>
    Unnamed,
    /// <summary>A clean exception whose message is longer than <see cref="FuzzRunner.MaxMessageChars"/> (an echoed token).</summary>
    LongMessage,
    /// <summary>Allocated more than <see cref="FuzzRunner.AllocationLimit"/> bytes on the reading thread.</summary>
    OverAllocation,
    /// <summary>Still running after <see cref="FuzzRunner.HangSeconds"/>.</summary>
    Hang,
    /// <summary>The process died (only seen by bench/fuzz, which reads in child processes).</summary>
    Crash,
}

/// <summary>One input's verdict, a one-line detail (exception type, message, where thrown) and the bytes allocated.</summary>
public sealed record FuzzOutcome(FuzzVerdict Verdict, string Detail, long AllocatedBytes, string? ExceptionType = null)
{
    public bool IsFailure => Verdict is not (FuzzVerdict.Accepted or FuzzVerdict.Rejected);

    /// <summary>Verdict and exception type: two inputs with the same signature are most likely the same bug.</summary>
    public string Signature => ExceptionType is null ? Verdict.ToString() : $"{Verdict}:{ExceptionType}";

    public override string ToString() => $"{Signature} ({AllocatedBytes / 1024} KiB allocated): {Detail}";
}

/// <summary>Runs a reader on one input with a time limit, measures what it allocates, and judges the result.</summary>
public static class FuzzRunner
{
    /// <summary>An input still being read after this many seconds is a hang (the issue's target: none over 5 s).</summary>
    public const int HangSeconds = 5;

    /// <summary>
    /// Allocation allowed per input byte. A reader may hold the file and one decoded copy of it; more than that
    /// means it sized a buffer from a header field it had not checked against the bytes that follow.
    /// </summary>
    public const double AllocationPerInputByte = 2.0;

    /// <summary>
    /// Fixed allocation allowed on top: buffers, parsers, the tiny nets the targets copy into, one 4096x4096
    /// RGBA image's worth of decoding. Small next to the gigabytes a header-sized allocation reaches.
    /// </summary>
    public const long AllocationSlackBytes = 16L << 20;

    /// <summary>Longest error message accepted: enough for a path and a sentence, short of an echoed 20,000-digit token.</summary>
    public const int MaxMessageChars = 2000;

    /// <summary>Bytes a reader may allocate for an input of <paramref name="inputLength"/> bytes.</summary>
    public static long AllocationLimit(long inputLength) => (long)(AllocationPerInputByte * inputLength) + AllocationSlackBytes;

    /// <summary>Whether the command line reports <paramref name="e"/> as one line (see src/Backprop.Cli/CommandErrors.cs).</summary>
    public static bool IsClean(Exception e) =>
        e is CaffeNetException or PrototxtException or InvalidDataException or ArgumentException or IOException or DatasetUnavailableException;

    /// <summary>
    /// Writes <paramref name="input"/> to the target's file name in a fresh directory, reads it on a thread of
    /// its own, and judges the result. A hung read is left running (a thread cannot be stopped) and its
    /// directory kept.
    /// </summary>
    public static FuzzOutcome Run(FuzzTarget target, byte[] input, TimeSpan? hangLimit = null)
    {
        var limit = hangLimit ?? TimeSpan.FromSeconds(HangSeconds);
        string dir = Path.Combine(Path.GetTempPath(), "backprop-fuzz-" + Guid.NewGuid().ToString("N"));
        string path = Path.Combine(dir, target.FileName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, input);
        target.Prepare?.Invoke(path);

        long allocated = 0;
        Exception? error = null;
        var read = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { target.Read(path); }
            catch (Exception e) { error = e; }
            finally { allocated = GC.GetAllocatedBytesForCurrentThread() - before; }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!read.Wait(limit))
            return new FuzzOutcome(FuzzVerdict.Hang, $"still reading {path} after {limit.TotalSeconds:0.#} s", 0);
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        return Judge(target, path, input.Length, error, allocated);
    }

    private static FuzzOutcome Judge(FuzzTarget target, string path, long inputLength, Exception? error, long allocated)
    {
        string? type = error?.GetType().FullName;
        if (error is not null && !IsClean(error))
            return new FuzzOutcome(FuzzVerdict.Unclean, Describe(error), allocated, type);
        if (allocated > AllocationLimit(inputLength))
            return new FuzzOutcome(FuzzVerdict.OverAllocation,
                $"{allocated:N0} bytes allocated for a {inputLength:N0}-byte input (limit {AllocationLimit(inputLength):N0}); " + (error is null ? "accepted" : Describe(error)),
                allocated, type);
        if (error is null) return new FuzzOutcome(FuzzVerdict.Accepted, "accepted", allocated);
        if (!error.Message.Contains(target.NamedIn(path), StringComparison.Ordinal))
            return new FuzzOutcome(FuzzVerdict.Unnamed, "message does not name the file: " + Describe(error), allocated, type);
        if (error.Message.Length > MaxMessageChars)
            return new FuzzOutcome(FuzzVerdict.LongMessage, $"{error.Message.Length:N0}-character message: " + Describe(error), allocated, type);
        return new FuzzOutcome(FuzzVerdict.Rejected, Describe(error), allocated, type);
    }

    /// <summary>Type, message (cut) and the innermost frame of ours that threw: enough to route the bug.</summary>
    private static string Describe(Exception e)
    {
        string message = e.Message.Length > 300 ? e.Message[..300] + "..." : e.Message;
        string? frame = e.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("Backprop.", StringComparison.Ordinal) && !l.Contains(".Fuzz.", StringComparison.Ordinal));
        if (frame is not null && frame.IndexOf(" in ", StringComparison.Ordinal) is int cut and > 0) frame = frame[..cut];
        return $"{e.GetType().Name}: {message.ReplaceLineEndings(" ")}" + (frame is null ? "" : $" [{frame}]");
    }
}
