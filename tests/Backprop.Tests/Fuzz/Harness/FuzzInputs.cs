using CsCheck;

namespace Backprop.Tests.Fuzz.Harness;

/// <summary>A seed (by index) and the mutations applied to it, in order.</summary>
public sealed record FuzzInput(int Seed, Mutation[] Mutations)
{
    /// <summary>The mutated bytes.</summary>
    public byte[] Bytes(FuzzTarget target) => Mutation.ApplyAll(target.Seeds.Value[Seed].Bytes, Mutations);

    public override string ToString() => $"seed {Seed} + [{string.Join(", ", Mutations)}]";
}

/// <summary>
/// CsCheck generators of mutated inputs. Input number i of a target comes from its own PCG state, so a run of
/// any length, in any batch, on any machine, produces the same inputs (CsCheck's Sample draws fresh random seeds
/// after the first, which is why the loop is ours).
/// </summary>
public static class FuzzInputs
{
    /// <summary>The fixed seed of every fuzz run; change it to explore other inputs.</summary>
    public const ulong FixedSeed = 20240613;

    /// <summary>
    /// Positions: most near the start, where the headers, magic numbers and sizes are; the rest anywhere
    /// (a position is taken modulo the file's length).
    /// </summary>
    private static readonly Gen<int> Position = Gen.Frequency((3, Gen.Int[0, 63]), (1, Gen.Int[0, 1023]), (2, Gen.Int[0, int.MaxValue]));

    public static readonly Gen<Mutation> Mutation =
        Gen.Select(Gen.Int[0, Enum.GetValues<MutationKind>().Length - 1], Position, Gen.Int[0, int.MaxValue], Gen.Int[0, 4095],
            (kind, position, value, length) => new Mutation((MutationKind)kind, position, value, length));

    /// <summary>One to six mutations of one of <paramref name="seedCount"/> seeds.</summary>
    public static Gen<FuzzInput> For(int seedCount) =>
        Gen.Select(Gen.Int[0, seedCount - 1], Mutation.Array[1, 6], (seed, mutations) => new FuzzInput(seed, mutations));

    /// <summary>Input number <paramref name="index"/> of <paramref name="target"/>'s run.</summary>
    public static FuzzInput Nth(FuzzTarget target, long index) =>
        For(target.Seeds.Value.Count).Generate(new PCG(Stream(target.Name), FixedSeed + (ulong)index), null, out _);

    // A stable stream number per target (string.GetHashCode changes from run to run).
    private static uint Stream(string name)
    {
        uint hash = 2166136261;
        foreach (char c in name) hash = (hash ^ c) * 16777619;
        return hash;
    }
}
