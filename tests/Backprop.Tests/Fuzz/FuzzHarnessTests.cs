using Backprop.Caffe;
using Backprop.Tests.Fuzz.Harness;

namespace Backprop.Tests.Fuzz;

/// <summary>The fuzz harness itself: verdicts for each kind of misbehaviour, repeatable inputs, mutations that apply anywhere.</summary>
public sealed class FuzzHarnessTests
{
    private static FuzzTarget Fake(Action<string> read) => new("fake", "input.bin", new(() => [("seed", new byte[] { 1, 2, 3, 4 })]), read);

    [Fact]
    public void EachKindOfMisbehaviourGetsItsVerdict()
    {
        byte[] input = [1, 2, 3];
        Assert.Equal(FuzzVerdict.Accepted, FuzzRunner.Run(Fake(_ => { }), input).Verdict);
        Assert.Equal(FuzzVerdict.Rejected, FuzzRunner.Run(Fake(p => throw new CaffeNetException($"{p}: bad")), input).Verdict);
        Assert.Equal(FuzzVerdict.Rejected, FuzzRunner.Run(Fake(p => throw new FileNotFoundException($"no {p}")), input).Verdict);

        var unclean = FuzzRunner.Run(Fake(p => throw new OverflowException($"{p}")), input);
        Assert.Equal((FuzzVerdict.Unclean, "System.OverflowException"), (unclean.Verdict, unclean.ExceptionType));
        Assert.Equal(FuzzVerdict.Unnamed, FuzzRunner.Run(Fake(_ => throw new InvalidDataException("bad file")), input).Verdict);
        Assert.Equal(FuzzVerdict.LongMessage, FuzzRunner.Run(Fake(p => throw new InvalidDataException(p + new string('9', 5000))), input).Verdict);

        var big = FuzzRunner.Run(Fake(_ => GC.KeepAlive(new byte[FuzzRunner.AllocationLimit(input.Length) + 1])), input);
        Assert.Equal(FuzzVerdict.OverAllocation, big.Verdict);
        Assert.True(big.AllocatedBytes > FuzzRunner.AllocationLimit(input.Length));
        Assert.Equal(FuzzVerdict.Accepted, FuzzRunner.Run(Fake(_ => GC.KeepAlive(new byte[FuzzRunner.AllocationSlackBytes / 2])), input).Verdict);

        Assert.Equal(FuzzVerdict.Hang, FuzzRunner.Run(Fake(_ => Thread.Sleep(2000)), input, TimeSpan.FromMilliseconds(100)).Verdict);
    }

    [Fact]
    public void InputNumberIAlwaysHasTheSameBytes()
    {
        var target = FuzzTargets.Named("idx");
        for (int i = 0; i < 20; i++)
            Assert.Equal(FuzzInputs.Nth(target, i).Bytes(target), FuzzInputs.Nth(target, i).Bytes(target));
        Assert.NotEqual(FuzzInputs.Nth(target, 0).Bytes(target), FuzzInputs.Nth(target, 1).Bytes(target));
    }

    [Fact]
    public void MutationsApplyToAnyLengthIncludingEmpty()
    {
        foreach (var kind in Enum.GetValues<MutationKind>())
            foreach (byte[] seed in new[] { Array.Empty<byte>(), [7], new byte[100] })
                Mutation.ApplyAll(seed, [new Mutation(kind, int.MaxValue, int.MaxValue, int.MaxValue), new Mutation(kind, 0, 0, 0)]);
        Assert.Equal(new byte[] { 1, 2 }, Mutation.ApplyAll([1, 2, 3, 4], [new Mutation(MutationKind.Truncate, 2, 0, 0)]));
        Assert.Equal(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF }, Mutation.ApplyAll([0, 0, 0, 0], [new Mutation(MutationKind.OverwriteInt32, 0, 2, 0)]));
        Assert.Equal(new byte[] { 0x80, 0, 0, 0, 9 }, Mutation.ApplyAll([0, 0, 0, 0, 9], [new Mutation(MutationKind.OverwriteInt32, 0, 3, 0)]));
    }

    [Fact]
    public void ShrinkingKeepsTheFailureAndDropsWhatDoesNotMatter()
    {
        // Fails (unclean) whenever byte 0 is 0xFF; everything else is noise to be removed.
        var target = Fake(p => { if (File.ReadAllBytes(p) is [0xFF, ..]) throw new OverflowException(); });
        var input = new FuzzInput(0, [new Mutation(MutationKind.DuplicateChunk, 2, 0, 3), new Mutation(MutationKind.OverwriteByte, 0, 4, 0), new Mutation(MutationKind.InsertBadUtf8, 3, 0, 0)]);
        var outcome = FuzzRunner.Run(target, input.Bytes(target));
        Assert.Equal(FuzzVerdict.Unclean, outcome.Verdict);
        var (bytes, minimal) = FuzzMinimizer.Minimize(target, input, outcome);
        Assert.Equal(outcome.Signature, minimal.Signature);
        Assert.Equal(new byte[] { 0xFF }, bytes);
    }
}
