namespace Backprop.Distributed;

/// <summary>An MPI call failed, or no usable MPI library was found. The message names the call or what to install.</summary>
public sealed class MpiException : Exception
{
    public MpiException(string message) : base(message) { }
    public MpiException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The MPI error code, where an MPI call returned one; 0 otherwise.</summary>
    public int ErrorCode { get; init; }
}
