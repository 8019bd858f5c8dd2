using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Backprop.Distributed;

namespace Backprop.Bench;

/// <summary>
/// MPI all-reduce (in-place float sum, through <see cref="Communicator.AllreduceSum(Span{float})"/>) timed under mpirun:
/// a sweep of sizes and the gradients of LeNet, ResNet-50 and VGG-16. Each repeat starts after a barrier; its time is
/// the slowest rank's, and the median over repeats is reported with the algorithm bandwidth (bytes / t) and the bus
/// bandwidth (2(N-1)/N · bytes / t, what a ring moves over each link, comparable across N).
/// <code>mpirun -np 2 dotnet Backprop.Bench.dll allreduce [repeats] [max floats]</code>
/// </summary>
internal static class AllreduceTimings
{
    // Parameter counts: LeNet as Caffe's lenet_train_test.prototxt (conv1 520, conv2 25,050, ip1 400,500, ip2 5,010),
    // ResNet-50 and VGG-16 as torchvision's (25,557,032 and 138,357,544).
    private static readonly (string Name, long Floats)[] Cases =
    [
        ("sweep", 1 << 10), ("sweep", 1 << 12), ("sweep", 1 << 14), ("sweep", 1 << 16), ("sweep", 1 << 18),
        ("lenet", 431_080), ("sweep", 1 << 20), ("sweep", 1 << 22), ("sweep", 1 << 24),
        ("resnet50", 25_557_032), ("vgg16", 138_357_544),
    ];

    public static void Run(int repeats, long maxFloats)
    {
        var world = Communicator.Initialize();
        if (world.IsRoot)
        {
            Console.WriteLine($"allreduce: {world.Description}");
            Console.WriteLine("times: median over repeats of the slowest rank's MPI_Allreduce (in place, float sum), after a barrier");
            Console.WriteLine($"{"case",-9} {"floats",12} {"MB",9} {"repeats",7} {"median ms",10} {"min ms",9} {"algbw GB/s",10} {"busbw GB/s",10}");
        }
        foreach (var (name, floats) in Cases)
        {
            if (floats > maxFloats) continue;
            int count = RepeatsFor(floats, repeats);
            var times = TimeOne(world, (int)floats, count);
            if (!world.IsRoot) continue;
            double median = Timing.Median(times), seconds = median / 1000, bytes = floats * 4.0;
            double busFactor = 2.0 * (world.Size - 1) / world.Size;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-9} {floats,12} {bytes / 1e6,9:F2} {count,7} {median,10:F3} {times.Min(),9:F3} {bytes / seconds / 1e9,10:F3} {busFactor * bytes / seconds / 1e9,10:F3}"));
        }
        world.Dispose();
    }

    // Big buffers take seconds per repeat over TCP: fewer repeats, never under 3.
    private static int RepeatsFor(long floats, int repeats) =>
        floats <= 1 << 22 ? repeats : floats <= 1 << 25 ? Math.Max(3, repeats / 2) : Math.Max(3, repeats / 4);

    /// <summary>Per repeat, the slowest rank's milliseconds (every rank returns the same list).</summary>
    private static double[] TimeOne(Communicator world, int floats, int repeats)
    {
        var buffer = new float[floats];
        var mine = new double[repeats];
        buffer.AsSpan().Fill(1f);
        world.AllreduceSum(buffer);   // warm-up: connections, MPI's temporary buffers, pages touched
        if (buffer[0] != world.Size || buffer[^1] != world.Size)
            throw new InvalidOperationException($"all-reduce of {floats} ones gave {buffer[0]} / {buffer[^1]}, not {world.Size}");
        for (int r = 0; r < repeats; r++)
        {
            buffer.AsSpan().Fill(1f);
            world.Barrier();
            var clock = Stopwatch.StartNew();
            world.AllreduceSum(buffer);
            mine[r] = clock.Elapsed.TotalMilliseconds;
        }
        // The slowest rank's time per repeat: the all-reduce is done only when the last rank has its sum.
        var all = new double[repeats * world.Size];
        world.AllGather(MemoryMarshal.AsBytes(mine.AsSpan()), MemoryMarshal.AsBytes(all.AsSpan()));
        var slowest = new double[repeats];
        for (int r = 0; r < repeats; r++)
            for (int rank = 0; rank < world.Size; rank++) slowest[r] = Math.Max(slowest[r], all[rank * repeats + r]);
        return slowest;
    }
}
