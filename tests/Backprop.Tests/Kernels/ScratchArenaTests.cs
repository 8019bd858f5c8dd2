using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

public unsafe class ScratchArenaTests
{
    [Fact]
    public void GivenBackBufferServesTheNextRequestThatFits()
    {
        var arena = new ScratchArena();
        var first = arena.Rent(100_000);
        arena.Return(first);
        var second = arena.Rent(90_000);
        Assert.True(first.Pointer == second.Pointer);
        Assert.True(second.Length >= 90_000);
        arena.Return(second);
        arena.Trim();
        Assert.Equal(0, arena.BytesHeld);
    }

    [Fact]
    public void BuffersAreExactlySizedNotPowersOfTwo()
    {
        var arena = new ScratchArena();
        var buffer = arena.Rent(1_100_000);   // ArrayPool would hand out (and keep) 2^21 floats
        Assert.InRange(buffer.Length, 1_100_000, 1_100_000 + 4096);
        Assert.Equal(4 * buffer.Length, arena.BytesHeld);
        arena.Return(buffer);
        arena.Trim();
    }

    [Fact]
    public void GrowingRequestsReplaceTheFreeBufferInsteadOfKeepingOneOfEachSize()
    {
        // A net's layers ask for ever larger transformed weights, one layer at a time: the arena keeps one buffer.
        var arena = new ScratchArena();
        long largest = 0;
        foreach (long length in new long[] { 40_000, 150_000, 600_000, 2_400_000, 300_000, 2_400_000 })
        {
            var buffer = arena.Rent(length);
            largest = Math.Max(largest, buffer.Length);
            buffer.Pointer[length - 1] = 1;   // writable to its end
            arena.Return(buffer);
            Assert.Equal(4 * largest, arena.BytesHeld);
        }
        arena.Trim();
        Assert.Equal(0, arena.BytesHeld);
    }

    [Fact]
    public void BuffersInUseAtOnceAreDistinctAndTheSmallestFitIsTaken()
    {
        var arena = new ScratchArena();
        var big = arena.Rent(1_000_000);
        var small = arena.Rent(200_000);
        Assert.True(big.Pointer != small.Pointer);
        arena.Return(big);
        arena.Return(small);
        var again = arena.Rent(150_000);
        Assert.True(again.Pointer == small.Pointer);
        arena.Return(again);
        arena.Trim();
        Assert.Equal(0, arena.BytesHeld);
    }

    [Fact]
    public void OfEquallySizedFreeBuffersAThreadGetsTheOneItGaveBack()
    {
        // Two threads' Winograd slab buffers: each thread's own is still in its core's cache.
        var arena = new ScratchArena();
        Scratch mine = arena.Rent(100_000), theirs = default;
        var other = new Thread(() =>
        {
            theirs = arena.Rent(100_000);
            arena.Return(theirs);   // given back first: the first equal fit in the free list
        });
        other.Start();
        other.Join();
        arena.Return(mine);
        Assert.True(mine.Pointer != theirs.Pointer);
        var again = arena.Rent(100_000);
        Assert.True(again.Pointer == mine.Pointer);
        arena.Return(again);
        arena.Trim();
        Assert.Equal(0, arena.BytesHeld);
    }
}
