namespace Backprop.Distributed.Mpi;

/// <summary>
/// What the process can tell about its launcher from the environment, before MPI is loaded: Open MPI's mpirun sets
/// OMPI_COMM_WORLD_SIZE/RANK, MPICH's Hydra (mpiexec) sets PMI_SIZE/PMI_RANK. Front-ends use it to decide whether to
/// train data-parallel, and the loader to pick the library that matches the launcher.
/// </summary>
public static class MpiLauncher
{
    /// <summary>The launcher's flavour, or null when the process was not started by mpirun/mpiexec.</summary>
    public static MpiFlavor? Detected =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null ? MpiFlavor.OpenMpi
        : Environment.GetEnvironmentVariable("PMI_SIZE") is not null ? MpiFlavor.Mpich
        : null;

    /// <summary>The number of processes the launcher started, or 1 when there is no launcher.</summary>
    public static int WorldSize => ReadInt("OMPI_COMM_WORLD_SIZE") ?? ReadInt("PMI_SIZE") ?? 1;

    /// <summary>This process's rank as the launcher set it, or 0 when there is no launcher.</summary>
    public static int WorldRank => ReadInt("OMPI_COMM_WORLD_RANK") ?? ReadInt("PMI_RANK") ?? 0;

    /// <summary>True when a launcher started this process among two or more: the time to train data-parallel.</summary>
    public static bool IsParallelJob => Detected is not null && WorldSize > 1;

    private static int? ReadInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) ? value : null;
}
