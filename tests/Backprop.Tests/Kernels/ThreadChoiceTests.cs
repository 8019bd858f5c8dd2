using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The measured choice between the kernel threads and the calling thread alone for small calls: untimed calls on the
/// threads while warming up, then alternating windows timed, the faster way kept until the next measurement, which can
/// change it.
/// </summary>
public class ThreadChoiceTests
{
    // One measurement: every call as Next gives it, timed calls recorded with the given ticks per way. Returns the ways
    // the timed calls ran, in order.
    private static List<bool> Measure(ThreadChoice choice, long serialTicks, long threadedTicks)
    {
        var ways = new List<bool>();
        for (int i = 0; i < ThreadChoice.Measuring; i++)
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
        var choice = new ThreadChoice(TimeSpan.FromHours(1), TimeSpan.Zero);
        for (int i = 0; i < 3 * ThreadChoice.Measuring; i++)
        {
            Assert.False(choice.Next(out bool timed));
            Assert.False(timed);
        }
    }

    [Fact]
    public void TheFasterWayIsKeptUntilTheNextMeasurement()
    {
        var choice = new ThreadChoice(TimeSpan.Zero, TimeSpan.FromHours(1));
        var ways = Measure(choice, serialTicks: 100, threadedTicks: 150);
        // windows alternate, serial first, the same number of calls each way
        Assert.True(ways.Take(ThreadChoice.Window).All(w => w));
        Assert.True(ways.Skip(ThreadChoice.Window).Take(ThreadChoice.Window).All(w => !w));
        Assert.Equal(ThreadChoice.Measuring / 2, ways.Count(w => w));
        Assert.True(choice.SerialWins);
        for (int i = 0; i < 5 * ThreadChoice.Measuring; i++)
        {
            Assert.True(choice.Next(out bool timed), $"call {i} after the measurement runs serially");
            Assert.False(timed);
        }
    }

    [Fact]
    public void TheNextMeasurementCanChangeTheChoice()
    {
        var choice = new ThreadChoice(TimeSpan.Zero, TimeSpan.Zero);
        Measure(choice, serialTicks: 100, threadedTicks: 150);
        Assert.True(choice.SerialWins);
        Measure(choice, serialTicks: 150, threadedTicks: 100);
        Assert.False(choice.SerialWins);
    }

    [Fact]
    public void AMeasurementWhoseCallsNeverReportIsAbandonedAndMadeAgain()
    {
        var choice = new ThreadChoice(TimeSpan.Zero, TimeSpan.Zero);
        for (int i = 0; i < 2 * ThreadChoice.Measuring + 1; i++) choice.Next(out _);   // handed out, never recorded
        var ways = Measure(choice, serialTicks: 100, threadedTicks: 150);
        Assert.Equal(ThreadChoice.Measuring / 2, ways.Count(w => w));
        Assert.True(choice.SerialWins);
    }
}
