using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Backprop.Bench -- --filter '*Gemm*'   (or '*' for all; --job short for a quick pass)
// dotnet run -c Release --project bench/Backprop.Bench -- quick [repeats] [inference]   (Stopwatch medians for bench/kernels/run.sh)
if (args.Length > 0 && args[0] == "quick")
{
    Backprop.Bench.QuickTimings.Run(args.Length > 1 ? int.Parse(args[1]) : 11, args.Length > 2 && args[2] == "inference");
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Backprop.Bench.GemmBenchmarks).Assembly).Run(args);
