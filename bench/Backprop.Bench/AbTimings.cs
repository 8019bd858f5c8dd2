using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;

namespace Backprop.Bench;

/// <summary>
/// Times one <see cref="AbCases"/> case in two or more builds of this project inside one process, alternating
/// between them in short blocks, so that the machine's drift (±20% within minutes on a shared host) hits every
/// build alike. Each build is loaded from its output folder into an AssemblyLoadContext of its own (its own
/// Backprop.dll and its own kernel threads). A block: a 2 ms pause (the other build's threads go to sleep), two
/// untimed calls, five timed ones. Prints min, first quartile and median per build, and medians as ratios.
/// BACKPROP_AB_CLOCK=cpu times the process's CPU time instead of wall time (<see cref="CpuClock"/>): on a loaded
/// machine wall times swing by tens of percent between identical builds, CPU times by a few. With more than one
/// kernel thread it counts the workers' waits too, so compare kernels with BACKPROP_NUM_THREADS=1 in that mode.
/// </summary>
internal static class AbTimings
{
    public static void Run(string caseName, int rounds, IReadOnlyList<string> folders)
    {
        if (folders.Count < 2) throw new ArgumentException("Give at least two build folders to compare.");
        var bodies = folders.Select(folder => Load(folder, caseName)).ToArray();
        var times = folders.Select(_ => new List<double>()).ToArray();
        bool cpu = Environment.GetEnvironmentVariable("BACKPROP_AB_CLOCK") == "cpu";
        if (cpu && !CpuClock.Available) throw new InvalidOperationException("BACKPROP_AB_CLOCK=cpu: this system has no process CPU clock (clock_gettime); use wall time.");
        Console.WriteLine($"clock: {(cpu ? "process CPU time" : "wall time")}");
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 3000)   // past the JIT's tiers in every build
            foreach (var body in bodies)
                for (int i = 0; i < 5; i++) body();
        for (int r = 0; r < rounds; r++)
            for (int s = 0; s < bodies.Length; s++)
            {
                Thread.Sleep(2);
                bodies[s](); bodies[s]();
                for (int i = 0; i < 5; i++)
                {
                    times[s].Add(cpu ? CpuMilliseconds(bodies[s]) : Timing.Milliseconds(bodies[s]));
                }
            }
        double baseline = Timing.Median(times[0]);
        for (int s = 0; s < bodies.Length; s++)
        {
            var t = times[s];
            t.Sort();
            Console.WriteLine($"{caseName}\t{folders[s]}\tmin {t[0]:F4}\tp25 {t[t.Count / 4]:F4}\tmedian {Timing.Median(t):F4} ms\tratio {Timing.Median(t) / baseline:F3}");
        }
    }

    private static double CpuMilliseconds(Action body)
    {
        long start = CpuClock.Nanoseconds();
        body();
        return (CpuClock.Nanoseconds() - start) / 1e6;
    }

    private static Action Load(string folder, string caseName)
    {
        string path = Path.GetFullPath(Path.Combine(folder, "Backprop.Bench.dll"));
        if (!File.Exists(path)) throw new FileNotFoundException($"No Backprop.Bench.dll in '{folder}' (build bench/Backprop.Bench there first).", path);
        var context = new BuildContext(path);
        var cases = context.LoadFromAssemblyPath(path).GetType("Backprop.Bench.AbCases")
            ?? throw new InvalidOperationException($"The build in '{folder}' has no AbCases (it predates this harness).");
        return (Action)cases.GetMethod("Make")!.Invoke(null, [caseName])!;
    }

    private sealed class BuildContext(string mainAssembly) : AssemblyLoadContext(isCollectible: false)
    {
        private readonly AssemblyDependencyResolver resolver = new(mainAssembly);

        protected override Assembly? Load(AssemblyName name)
        {
            // The shared framework (and so Action) comes from the default context; the build's own assemblies from its folder.
            string? path = resolver.ResolveAssemblyToPath(name);
            return path is null ? null : LoadFromAssemblyPath(path);
        }
    }
}
