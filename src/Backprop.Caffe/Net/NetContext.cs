using Backprop.Caffe.Proto;

namespace Backprop.Caffe;

/// <summary>What a layer may know about the pass it runs in.</summary>
public sealed class NetContext
{
    public NetContext(Phase phase, ulong seed = 0)
    {
        Phase = phase;
        Seed = seed;
    }

    public Phase Phase { get; }

    /// <summary>True in the TRAIN phase: dropout drops, data layers mirror and crop at random.</summary>
    public bool IsTraining => Phase == Phase.Train;

    /// <summary>The solver iteration (or test batch) being computed.</summary>
    public int Iteration { get; set; }

    /// <summary>The run's random seed; randomness of a pass depends only on it and <see cref="Iteration"/>, so a resumed run repeats exactly.</summary>
    public ulong Seed { get; }

    /// <summary>A generator for one layer in this pass, derived from the seed, the iteration and the layer index.</summary>
    public Generator RandomFor(int layerIndex) =>
        new(Seed * 0x9E3779B97F4A7C15UL ^ ((ulong)(uint)Iteration << 20) ^ (ulong)(uint)layerIndex);

    /// <summary>Directory that relative data paths are tried against after the working directory.</summary>
    public string? BaseDirectory { get; init; }

    /// <summary>
    /// The most memory one layer's weights or outputs may take when the net is built; null (the default): what the GC
    /// says this machine has (GC.GetGCMemoryInfo().TotalAvailableMemoryBytes) less what the process already holds.
    /// </summary>
    public long? MemoryLimitBytes { get; init; }

    /// <summary>Values for Input layers, by top blob name.</summary>
    public Dictionary<string, Tensor> Inputs { get; } = [];
}
