using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The measured choice between the kernel threads and the calling thread alone for small calls: untimed warm-up calls
/// on the threads, then alternating windows timed, the faster way kept until the next measurement, which can change it.
/// </summary>
public class ThreadChoiceTests
{
    private const int Measuring = 2 * ThreadChoice.Rounds * ThreadChoice.Window;

    // One measurement: every call as Next gives it, timed calls recorded with the given ticks per way. Returns the ways
    // the timed calls ran, in order.
    private static List<bool> Measure(ThreadChoice choice, long serialTicks, long threadedTicks)
    {
        var ways = new List<bool>();
        for (int i = 0; i < Measuring; i++)
        {
            bool serial = choice.Next(out bool timed);
            Assert.True(timed, $"call {i} of the measurement is timed");
            ways.Add(serial);
            choice.Record(serial, serial ? serialTicks : threadedTicks);
        }
        return ways;
    }

    [Fact]
    public void WarmUpCallsRunOnTheThreadsUntimed()
    {
        var choice = new ThreadChoice();
        for (int i = 0; i < ThreadChoice.WarmUp; i++)
        {
            Assert.False(choice.Next(out bool timed));
            Assert.False(timed);
        }
    }

    [Fact]
    public void TheFasterWayIsKeptUntilTheNextMeasurementAndThatOneCanChangeIt()
    {
        var choice = new ThreadChoice();
        for (int i = 0; i < ThreadChoice.WarmUp; i++) choice.Next(out _);
        var ways = Measure(choice, serialTicks: 100, threadedTicks: 150);
        // windows alternate, serial first, the same number of calls each way
        Assert.True(ways.Take(ThreadChoice.Window).All(w => w));
        Assert.True(ways.Skip(ThreadChoice.Window).Take(ThreadChoice.Window).All(w => !w));
        Assert.Equal(Measuring / 2, ways.Count(w => w));
        Assert.True(choice.SerialWins);
        for (int i = 0; i < ThreadChoice.Exploit; i++)
        {
            Assert.True(choice.Next(out bool timed), $"exploit call {i} runs serially");
            Assert.False(timed);
        }
        choice.Next(out _);   // the call that ends the stretch; the next measurement starts after it
        Measure(choice, serialTicks: 150, threadedTicks: 100);
        Assert.False(choice.SerialWins);
        Assert.False(choice.Next(out bool after));
        Assert.False(after);
    }
}
