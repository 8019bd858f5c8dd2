using System.Runtime.InteropServices;

namespace Backprop.Distributed.Mpi;

/// <summary>
/// The system's MPI C library, loaded at run time, with the entry points training needs as function pointers.
/// Handles (communicator, datatype, op, request) are carried as <see cref="nint"/> for both ABIs: on the 64-bit
/// Linux calling conventions an int argument is read from the low half of the same register or stack slot, so one
/// signature serves Open MPI's pointer handles and MPICH's integer handles alike.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    // Open MPI loads its components with dlopen and they resolve symbols from libmpi: the library must be global.
    private const int RtldNow = 2, RtldGlobal = 0x100;

    /// <summary>Where each flavour's shared library is found on Debian/Ubuntu and most other distributions.</summary>
    internal static readonly (MpiFlavor Flavor, string File)[] Candidates =
    [
        (MpiFlavor.OpenMpi, "libmpi.so.40"),
        (MpiFlavor.Mpich, "libmpich.so.12"),
        (MpiFlavor.Mpich, "libmpi.so.12"),
    ];

    /// <summary>What to install when no library loads.</summary>
    internal const string InstallHint =
        "install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin, which brings libopenmpi3) or MPICH (apt-get install mpich), " +
        "or set BACKPROP_MPI_LIBRARY to the full path of libmpi.so / libmpich.so";

    private MpiLibrary(string path, nint handle, MpiFlavor flavor)
    {
        Path = path;
        Flavor = flavor;
        nint Export(string name) => NativeLibrary.TryGetExport(handle, name, out nint address) ? address
            : throw new MpiException($"The MPI library {path} has no {name}; it is not an MPI-3 library ({InstallHint}).");

        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        InitThread = (delegate* unmanaged<int*, nint*, int, int*, int>)Export("MPI_Init_thread");
        FinalizeCall = (delegate* unmanaged<int>)Export("MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        CommSetErrhandler = (delegate* unmanaged<nint, nint, int>)Export("MPI_Comm_set_errhandler");
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        Iallreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, long*, int>)Export("MPI_Iallreduce");
        Wait = (delegate* unmanaged<long*, void*, int>)Export("MPI_Wait");
        Test = (delegate* unmanaged<long*, int*, void*, int>)Export("MPI_Test");
        Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        Allgather = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)Export("MPI_Allgather");
        Barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        Abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Export("MPI_Error_string");
        GetLibraryVersion = (delegate* unmanaged<byte*, int*, int>)Export("MPI_Get_library_version");

        if (flavor == MpiFlavor.OpenMpi)
        {
            // Open MPI's handles are the addresses of its predefined objects; MPI_IN_PLACE is 1, MPI_STATUS_IGNORE null.
            CommWorld = Export("ompi_mpi_comm_world");
            Float = Export("ompi_mpi_float");
            Double = Export("ompi_mpi_double");
            Int = Export("ompi_mpi_int");
            Byte = Export("ompi_mpi_byte");
            Sum = Export("ompi_mpi_op_sum");
            Max = Export("ompi_mpi_op_max");
            ErrorsReturn = Export("ompi_mpi_errors_return");
            InPlace = 1;
            StatusIgnore = 0;
        }
        else
        {
            // MPICH's handles are constants of its ABI (mpi.h), the same since MPICH 3.1.
            CommWorld = 0x44000000;
            Float = 0x4c00040a;
            Double = 0x4c00080b;
            Int = 0x4c000405;
            Byte = 0x4c00010d;
            Sum = 0x58000003;
            Max = 0x58000001;
            ErrorsReturn = 0x54000001;
            InPlace = -1;
            StatusIgnore = 1;
        }
    }

    public string Path { get; }
    public MpiFlavor Flavor { get; }

    public nint CommWorld { get; }
    public nint Float { get; }
    public nint Double { get; }
    public nint Int { get; }
    public nint Byte { get; }
    public nint Sum { get; }
    public nint Max { get; }
    public nint ErrorsReturn { get; }
    public nint InPlace { get; }
    public nint StatusIgnore { get; }

    public readonly delegate* unmanaged<int*, int> Initialized;
    public readonly delegate* unmanaged<int*, int> Finalized;
    public readonly delegate* unmanaged<int*, nint*, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int> FinalizeCall;
    public readonly delegate* unmanaged<nint, int*, int> CommRank;
    public readonly delegate* unmanaged<nint, int*, int> CommSize;
    public readonly delegate* unmanaged<nint, nint, int> CommSetErrhandler;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, long*, int> Iallreduce;
    public readonly delegate* unmanaged<long*, void*, int> Wait;
    public readonly delegate* unmanaged<long*, int*, void*, int> Test;
    public readonly delegate* unmanaged<void*, int, nint, int, nint, int> Bcast;
    public readonly delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int> Allgather;
    public readonly delegate* unmanaged<nint, int> Barrier;
    public readonly delegate* unmanaged<nint, int, int> Abort;
    public readonly delegate* unmanaged<int, byte*, int*, int> ErrorString;
    public readonly delegate* unmanaged<byte*, int*, int> GetLibraryVersion;

    /// <summary>
    /// Loads the library: BACKPROP_MPI_LIBRARY when set, else the flavour matching the launcher that started this
    /// process (mixing them would run every rank as a job of one), else the first of <see cref="Candidates"/> present.
    /// </summary>
    public static MpiLibrary Load()
    {
        string? forced = Environment.GetEnvironmentVariable("BACKPROP_MPI_LIBRARY");
        var tried = new List<string>();
        if (!string.IsNullOrEmpty(forced))
        {
            nint handle = Open(forced, tried);
            if (handle == 0)
                throw new MpiException($"BACKPROP_MPI_LIBRARY names {forced}, which could not be loaded: {string.Join("; ", tried)}. Point it at an existing library, or unset it and {InstallHint}.");
            return new MpiLibrary(forced, handle, NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out _) ? MpiFlavor.OpenMpi : MpiFlavor.Mpich);
        }
        var launcher = MpiLauncher.Detected;
        foreach (var (flavor, file) in Candidates.OrderBy(c => launcher is null || c.Flavor == launcher ? 0 : 1))
        {
            nint handle = Open(file, tried);
            if (handle != 0) return new MpiLibrary(file, handle, flavor);
        }
        throw new MpiException($"No MPI library could be loaded (tried {string.Join("; ", tried)}): {InstallHint}.");
    }

    private static nint Open(string file, List<string> tried)
    {
        nint handle = DlOpen(file, RtldNow | RtldGlobal);
        if (handle == 0)
        {
            nint error = DlError();
            tried.Add(error == 0 ? file : Marshal.PtrToStringUTF8(error) ?? file);
        }
        return handle;
    }

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern nint DlOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int flags);

    [DllImport("libc", EntryPoint = "dlerror")]
    private static extern nint DlError();
}
