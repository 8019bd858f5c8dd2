using Backprop.Caffe.Proto;
using Backprop.IO;
using Google.Protobuf;

namespace Backprop.Caffe;

/// <summary>
/// Caffe's snapshot files: .caffemodel (a NetParameter with blobs) and .solverstate (SolverState), or their HDF5 forms
/// .caffemodel.h5 and .solverstate.h5 (any name ending in .h5, as Caffe decides; see <see cref="Hdf5.Hdf5Snapshots"/>).
/// </summary>
public static class Snapshots
{
    /// <summary>Largest snapshot file read; larger ones are refused before allocating.</summary>
    public const long MaxFileBytes = 2L << 30;

    public static void WriteModel(string path, NetParameter model) => AtomicFile.Write(path, s => model.WriteTo(s));

    /// <summary>Reads a .caffemodel (HDF5 for a name ending in .h5, as Caffe), upgrading Caffe's V0/V1 formats to the current one (<see cref="NetUpgrade"/>).</summary>
    public static NetParameter ReadModel(string path)
    {
        if (Hdf5.Hdf5Snapshots.IsHdf5(path)) return Hdf5.Hdf5Snapshots.ReadModel(path);
        var model = Read(path, NetParameter.Parser, "model weights (.caffemodel)");
        NetUpgrade.UpgradeAsNeeded(model, path);
        return model;
    }

    /// <summary>Reads a .solverstate, refusing fields no solver writes (a negative iter or current_step) with the file and field named.</summary>
    public static SolverState ReadState(string path)
    {
        var state = Hdf5.Hdf5Snapshots.IsHdf5(path) ? Hdf5.Hdf5Snapshots.ReadState(path) : Read(path, SolverState.Parser, "solver state (.solverstate)");
        if (state.Iter < 0) throw new CaffeNetException($"{path}: the solver state's iter is {state.Iter}; an iteration count cannot be negative.");
        if (state.CurrentStep < 0) throw new CaffeNetException($"{path}: the solver state's current_step is {state.CurrentStep}; it cannot be negative.");
        return state;
    }

    private static T Read<T>(string path, MessageParser<T> parser, string what) where T : IMessage<T>
    {
        if (!File.Exists(path)) throw new CaffeNetException($"{path}: no such file (expected {what}).");
        var info = new FileInfo(path);
        if (info.Length > MaxFileBytes) throw new CaffeNetException($"{path}: {info.Length} bytes is larger than the {MaxFileBytes}-byte limit for {what}.");
        try
        {
            using var stream = File.OpenRead(path);
            return parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CaffeNetException($"{path}: not a valid binary {what}: {e.Message}", e);
        }
    }

    /// <summary>Writes the iteration, the model path and the optimizer history in Caffe's order (buffer by buffer, parameter by parameter).</summary>
    public static void WriteState(string path, CaffeSolver solver, string modelPath)
    {
        var state = StateOf(solver, modelPath);
        AtomicFile.Write(path, s => state.WriteTo(s));
    }

    /// <summary>The solver's iteration, model path and optimizer history as a SolverState message.</summary>
    public static SolverState StateOf(CaffeSolver solver, string modelPath)
    {
        ArgumentNullException.ThrowIfNull(solver);
        var state = new SolverState { Iter = solver.Iteration, LearnedNet = modelPath, CurrentStep = CurrentStep(solver) };
        var parameters = solver.TrainNet.Parameters;
        for (int b = 0; b < solver.Optimizer.StateNames.Count; b++)
            foreach (var p in parameters)
            {
                var blob = new BlobProto { Shape = Layers.BlobShapes.To(p.Shape) };
                blob.Data.Add(solver.Optimizer.State(p).Buffers[b]);
                state.History.Add(blob);
            }
        return state;
    }

    /// <summary>Puts a .solverstate's history back into the optimizer, checking counts and shapes.</summary>
    public static void RestoreHistory(SolverState state, CaffeSolver solver, string source)
    {
        var parameters = solver.TrainNet.Parameters;
        int buffers = solver.Optimizer.StateNames.Count;
        if (state.History.Count != buffers * parameters.Count)
            throw new CaffeNetException($"{source}: {state.History.Count} history blobs, but this solver and net need {buffers * parameters.Count} ({buffers} per parameter, {parameters.Count} parameters).");
        for (int b = 0; b < buffers; b++)
            for (int i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                var values = BlobProtos.Values(state.History[b * parameters.Count + i], p.Shape, $"{source}: history blob {b * parameters.Count + i}");
                var st = solver.Optimizer.State(p);
                values.CopyTo(st.Buffers[b], 0);
                st.Step = state.Iter;
            }
    }

    // Caffe's current_step: how many multistep boundaries have passed.
    private static int CurrentStep(CaffeSolver solver) =>
        solver.Definition.LrPolicy == "multistep" ? solver.Definition.Stepvalue.Count(v => solver.Iteration >= v) : 0;
}
