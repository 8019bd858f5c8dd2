namespace Backprop.Keras;

/// <summary>Whether <see cref="Sequential.Fit(Tensor, Tensor, int, int, double, ValidationData?, bool, IEnumerable{Callback}?, IProgress{EpochProgress}?, CancellationToken, float[], IReadOnlyDictionary{int, float}?, int)"/> trains data-parallel over an MPI job.</summary>
public enum DataParallelMode
{
    /// <summary>Data-parallel when mpirun/mpiexec started this process among two or more (the default).</summary>
    Auto,

    /// <summary>Always join the MPI job (a job of one when started without a launcher).</summary>
    Always,

    /// <summary>Never: every process trains alone, even under mpirun.</summary>
    Never,
}
