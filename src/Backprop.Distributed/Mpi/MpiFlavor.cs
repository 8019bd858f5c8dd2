namespace Backprop.Distributed.Mpi;

/// <summary>
/// The two MPI ABIs found on Linux. They differ in how handles are represented: Open MPI's handles are
/// addresses of exported objects (ompi_mpi_comm_world, ompi_mpi_float, ...), MPICH's are fixed integers.
/// </summary>
public enum MpiFlavor
{
    OpenMpi,
    Mpich,
}
