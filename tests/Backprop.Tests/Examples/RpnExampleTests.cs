using Backprop.Tests.IO;
using Rpn;

namespace Backprop.Tests.Examples;

public class RpnExampleTests
{
    [Fact]
    public void TheRpnTrainsOneHeadOnAnchorsOfEveryTypeAtMostHalfPositive()
    {
        using var dir = new TempDirectory();
        var report = RpnExperiment.Run(Path.Combine(dir.Path, "voc"), trainImages: 12, testImages: 4, steps: 6, evaluateEvery: 3, batchSize: 2,
            seed: 1, dir.Path, TextWriter.Null);

        Assert.Equal(9, report.AnchorsPerLocation);
        Assert.Equal(9, report.AnchorTypes.Count);
        Assert.Equal(6, report.Losses.Count);
        Assert.All(report.Losses, l => Assert.True(float.IsFinite(l)));
        Assert.NotEmpty(report.Samples);
        foreach (var s in report.Samples)
        {
            Assert.InRange(s.Positive, 1, 128);
            Assert.Equal(256, s.Positive + s.Negative);
            Assert.Equal(256, s.SampledPerType.Sum());
            Assert.Equal(s.Positive, s.PositivePerType.Sum());
            Assert.True(s.SampledPerType.Count(n => n > 0) >= 5, string.Join(" ", s.SampledPerType));
        }
        Assert.Equal([3, 6], report.Recall.Select(r => r.Step));
        Assert.All(report.Recall, r => Assert.InRange(r.Recall, 0, 1));
        Assert.Equal(2, report.Pictures.Count);
        Assert.All(report.Pictures, p => Assert.True(new FileInfo(p).Length > 1000, p));
    }
}
