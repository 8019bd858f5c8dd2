using Backprop.Caffe.Proto;

namespace Backprop.Caffe;

/// <summary>
/// Caffe's UpgradeSolverAsNeeded: the deprecated <c>solver_type</c> enum (SGD, NESTEROV, ADAGRAD, RMSPROP, ADADELTA,
/// ADAM) becomes the <c>type</c> string, and, as Backprop adds, nets given inline (<c>net_param</c>,
/// <c>train_net_param</c>, <c>test_net_param</c>) in an old format are upgraded as net files are (<see cref="NetUpgrade"/>).
/// </summary>
public static class SolverUpgrade
{
    /// <summary>True when <paramref name="solver"/> uses <c>solver_type</c> or holds an inline net in an old format.</summary>
    public static bool NeedsUpgrade(SolverParameter solver)
    {
        ArgumentNullException.ThrowIfNull(solver);
        return solver.HasSolverType || InlineNets(solver).Any(n => NetUpgrade.NeedsUpgrade(n.Net));
    }

    /// <summary><paramref name="solver"/> itself when it needs no upgrade, else an upgraded copy.</summary>
    /// <param name="source">The solver file, named in messages.</param>
    /// <exception cref="CaffeNetException">Both <c>solver_type</c> and <c>type</c> are given, or an inline net cannot be upgraded.</exception>
    public static SolverParameter Upgraded(SolverParameter solver, string source, Action<string>? log = null)
    {
        if (!NeedsUpgrade(solver)) return solver;
        var copy = solver.Clone();
        if (copy.HasSolverType)
        {
            if (copy.HasType)
                throw new CaffeNetException($"{source}: the solver gives both solver_type ({copy.SolverType}) and type (\"{copy.Type}\"); keep only type.");
            copy.Type = SolverSetup.SolverType(copy);
            copy.ClearSolverType();
            log?.Invoke($"Upgraded {source}'s solver_type to type \"{copy.Type}\".");
        }
        foreach (var (net, name) in InlineNets(copy)) NetUpgrade.UpgradeAsNeeded(net, $"{source} ({name})", log);
        return copy;
    }

    private static IEnumerable<(NetParameter Net, string Name)> InlineNets(SolverParameter s)
    {
        if (s.NetParam is not null) yield return (s.NetParam, "net_param");
        if (s.TrainNetParam is not null) yield return (s.TrainNetParam, "train_net_param");
        for (int i = 0; i < s.TestNetParam.Count; i++) yield return (s.TestNetParam[i], $"test_net_param #{i}");
    }
}
