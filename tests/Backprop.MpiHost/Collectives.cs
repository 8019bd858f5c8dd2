using Backprop.Distributed;

namespace Backprop.MpiHost;

/// <summary>Every collective of the binding against sums each rank can compute alone, and the argument errors.</summary>
internal static class Collectives
{
    public static int Run()
    {
        var world = Communicator.Initialize();
        int r = world.Rank, n = world.Size;
        var failures = new List<string>();
        void Expect(bool ok, string what) { if (!ok) failures.Add(what); }
        int rankSum = n * (n - 1) / 2;

        // Lengths above a few thousand take other algorithms inside MPI than short vectors.
        foreach (int length in new[] { 1, 7, 100_000 })
        {
            var f = new float[length];
            for (int i = 0; i < length; i++) f[i] = r + i % 5;
            world.AllreduceSum(f);
            Expect(Enumerable.Range(0, length).All(i => f[i] == rankSum + n * (i % 5)), $"float sum of {length}");
            var d = Enumerable.Repeat(r + 0.5, length).ToArray();
            world.AllreduceSum(d);
            Expect(d.All(v => v == rankSum + 0.5 * n), $"double sum of {length}");
        }
        var ints = new[] { r, 10 * r, -r };
        world.AllreduceSum(ints);
        Expect(ints.SequenceEqual(new[] { rankSum, 10 * rankSum, -rankSum }), "int sum");
        var max = new[] { r, -r };
        world.AllreduceMax(max);
        Expect(max.SequenceEqual(new[] { n - 1, 0 }), "int max");

        var started = Enumerable.Range(0, 50_000).Select(i => (float)(r * i)).ToArray();
        using (var pending = world.StartAllreduceSum(started)) pending.Wait();
        Expect(Enumerable.Range(0, started.Length).All(i => started[i] == (float)rankSum * i), "MPI_Iallreduce float sum");

        var fromLast = Enumerable.Repeat((float)r, 5).ToArray();
        world.Broadcast(fromLast, root: n - 1);
        Expect(fromLast.All(v => v == n - 1), "float broadcast from the last rank");
        var bytes = new byte[] { (byte)r, 1, 2 };
        world.Broadcast(bytes);
        Expect(bytes[0] == 0, "byte broadcast");
        var intBroadcast = new[] { r + 40 };
        world.Broadcast(intBroadcast);
        Expect(intBroadcast[0] == 40, "int broadcast");

        var all = new byte[2 * n];
        world.AllGather(new[] { (byte)r, (byte)(r * 3) }, all);
        Expect(Enumerable.Range(0, n).All(k => all[2 * k] == k && all[2 * k + 1] == 3 * k), "all-gather");
        world.Barrier();

        // Argument errors are refused on every rank before any MPI call, so no rank waits.
        Expect(Throws<ArgumentOutOfRangeException>(() => world.Broadcast(new float[1], root: n), $"root {n} is not a rank"), "bad root");
        Expect(Throws<ArgumentOutOfRangeException>(() => world.Broadcast(new float[1], root: -1), "root -1"), "negative root");
        Expect(Throws<ArgumentException>(() => world.AllGather(new byte[2], new byte[2 * n + 1]), $"{n} x 2 bytes"), "all-gather size");

        Console.WriteLine(failures.Count == 0 ? $"rank {r} of {n}: collectives OK on {world.LibraryVersion}" : $"FAIL rank {r}: {string.Join(", ", failures)}");
        return failures.Count == 0 ? 0 : 1;
    }

    private static bool Throws<T>(Action action, string messagePart) where T : Exception
    {
        try { action(); }
        catch (T e) when (e.Message.Contains(messagePart, StringComparison.Ordinal)) { return true; }
        catch (Exception e) { Console.Error.WriteLine($"unexpected {e.GetType().Name}: {e.Message}"); }
        return false;
    }
}
