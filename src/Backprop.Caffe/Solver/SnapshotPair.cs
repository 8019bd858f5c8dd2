using System.Globalization;
using System.Text.RegularExpressions;
using Backprop.Caffe.Proto;
using Backprop.IO;
using Google.Protobuf;

namespace Backprop.Caffe;

/// <summary>
/// A snapshot as a pair, <c>{prefix}_iter_{N}.caffemodel</c> and <c>.solverstate</c>, that appears together: both go
/// to exclusive temporary files that are written and flushed to disk in full (a full disk fails here, leaving no new
/// files), then the model is renamed into place and the state last. The state is the commit marker: an iteration
/// whose .solverstate exists is complete; one with only a .caffemodel was interrupted between the two renames.
/// </summary>
public static class SnapshotPair
{
    /// <summary>Writes the pair: both temporary files in full, then the model's rename, then the state's.</summary>
    public static void Write(string modelPath, NetParameter model, string statePath, SolverState state) =>
        Write(modelPath, model, statePath, state, wrap: null);

    // wrap (tests only) wraps each temporary file's stream, e.g. to fail as a full disk does.
    internal static void Write(string modelPath, NetParameter model, string statePath, SolverState state, Func<Stream, Stream>? wrap)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        Write(modelPath, model.WriteTo, statePath, state.WriteTo, wrap);
    }

    /// <summary>Writes the pair as above, each file's bytes written by its own writer (binary protos, or HDF5 with snapshot_format: HDF5).</summary>
    internal static void Write(string modelPath, Action<Stream> writeModel, string statePath, Action<Stream> writeState, Func<Stream, Stream>? wrap)
    {
        using var modelFile = AtomicFile.Begin(modelPath);
        using var stateFile = AtomicFile.Begin(statePath);
        WriteContent(modelFile, writeModel, wrap);
        WriteContent(stateFile, writeState, wrap);
        // An older state of this iteration goes first, so that the new model never pairs with it.
        File.Delete(statePath);
        modelFile.Commit();
        stateFile.Commit();
    }

    private static void WriteContent(PendingFile file, Action<Stream> write, Func<Stream, Stream>? wrap)
    {
        var stream = wrap?.Invoke(file.Stream) ?? file.Stream;
        write(stream);
        stream.Flush();
        file.Complete();
    }

    /// <summary>The folder and the file-name prefix of <paramref name="prefix"/> (Caffe's snapshot_prefix, e.g. <c>out/lenet</c> → <c>out</c>, <c>lenet</c>).</summary>
    public static (string Directory, string NamePrefix) Split(string prefix)
    {
        const string tail = "_iter_0.caffemodel";
        string full = Path.GetFullPath(prefix + tail);
        string name = Path.GetFileName(full);
        return (Path.GetDirectoryName(full) ?? ".", name[..^tail.Length]);
    }

    /// <summary>
    /// Deletes temporary files that interrupted snapshots of <paramref name="prefix"/> left behind: only names made by
    /// <see cref="AtomicFile"/> for this prefix's snapshots (and the fixed <c>{name}.tmp</c> names older versions used),
    /// never other files. Returns the paths deleted.
    /// </summary>
    public static IReadOnlyList<string> RemoveLeftovers(string prefix)
    {
        var (directory, namePrefix) = Split(prefix);
        if (!Directory.Exists(directory)) return [];
        string snapshotName = Regex.Escape(namePrefix) + @"_iter_[0-9]+\.(?:caffemodel|solverstate)(?:\.h5)?";
        var legacy = new Regex($@"^{snapshotName}\.tmp$", RegexOptions.CultureInvariant);
        var removed = new List<string>();
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            string name = Path.GetFileName(path);
            if (!AtomicFile.IsTemporaryNameOf(name, snapshotName) && !legacy.IsMatch(name)) continue;
            File.Delete(path);   // a link is removed itself, its target is left alone
            removed.Add(path);
        }
        return removed;
    }

    /// <summary>The newest iteration of <paramref name="prefix"/> with both files, or null when there is none.</summary>
    public static (int Iteration, string Model, string State)? NewestComplete(string prefix)
    {
        var (directory, namePrefix) = Split(prefix);
        if (!Directory.Exists(directory)) return null;
        var pattern = new Regex($@"^{Regex.Escape(namePrefix)}_iter_([0-9]{{1,9}})\.solverstate(?:\.h5)?$", RegexOptions.CultureInvariant);
        (int, string, string)? best = null;
        foreach (var state in Directory.EnumerateFiles(directory))
        {
            var m = pattern.Match(Path.GetFileName(state));
            if (!m.Success) continue;
            int iteration = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            string model = ModelBeside(state);
            if (File.Exists(model) && (best is null || iteration > best.Value.Item1)) best = (iteration, model, state);
        }
        return best;
    }

    /// <summary>
    /// What to tell a user whose <c>--snapshot</c> file <paramref name="statePath"/> does not exist: whether its model
    /// exists alone (an interrupted snapshot), and the newest complete pair beside it.
    /// </summary>
    public static string DescribeMissingState(string statePath)
    {
        string message = $"{statePath}: no such file (expected solver state (.solverstate)).";
        string model = ModelBeside(statePath);
        if (File.Exists(model))
            message += $" {model} exists without it: that snapshot was interrupted between writing the model and the state, so it cannot be resumed.";
        var m = Regex.Match(Path.GetFileName(statePath), @"^(.*)_iter_[0-9]+\.solverstate(?:\.h5)?$", RegexOptions.CultureInvariant);
        if (m.Success && NewestComplete(Path.Combine(Path.GetDirectoryName(statePath) ?? "", m.Groups[1].Value)) is { } newest)
            message += $" The newest complete snapshot is {newest.State} (iteration {newest.Iteration}).";
        return message;
    }

    /// <summary>The model file of a snapshot pair: <c>x.solverstate</c> → <c>x.caffemodel</c>, <c>x.solverstate.h5</c> → <c>x.caffemodel.h5</c>.</summary>
    public static string ModelBeside(string statePath) => Hdf5.Hdf5Snapshots.IsHdf5(statePath)
        ? Path.ChangeExtension(Path.ChangeExtension(statePath, null), ".caffemodel") + ".h5"
        : Path.ChangeExtension(statePath, ".caffemodel");
}
