using Backprop.MpiHost;

// Scenarios for the MPI tests (tests/Backprop.Tests/Distributed), each started under mpirun with 1 to 3 ranks:
//   collectives                 every binding call checked against known sums; error paths
//   load                        Communicator.Initialize alone (for the library-loading errors)
//   train OUT [options]         a small conv net trained with DistributedDataParallel; weights to OUT/weights.rankR.bin
//   keras OUT                   Sequential.Fit under mpirun
//   bench                       overlapped vs blocking gradient averaging, LeNet- and ResNet-20-sized
// Exit code 0 when the scenario's own checks pass; a failure prints "FAIL ..." and exits 1.
try
{
    return args.FirstOrDefault() switch
    {
        "collectives" => Collectives.Run(),
        "load" => LoadOnly.Run(),
        "train" => TrainScenario.Run(args[1..]),
        "keras" => KerasScenario.Run(args[1..]),
        "bench" => OverlapBench.Run(args[1..]),
        _ => Usage(),
    };
}
catch (Exception e)
{
    Console.Error.WriteLine($"FAIL {e.GetType().Name}: {e.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Backprop.MpiHost collectives | load | train OUT [options] | keras OUT | bench");
    return 2;
}
