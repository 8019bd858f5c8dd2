using Backprop.Distributed;

namespace Backprop.MpiHost;

/// <summary>Starts MPI and prints what was loaded: the library-loading tests read the message or the error.</summary>
internal static class LoadOnly
{
    public static int Run()
    {
        var world = Communicator.Initialize();
        Console.WriteLine($"rank {world.Rank}: {world.Description}");
        return 0;
    }
}
