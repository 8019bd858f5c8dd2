using Freezing;

namespace Backprop.Tests.Examples;

public class FreezingOutputFolderTests
{
    [Fact]
    public void DotFilesGoToTheNamedFolderElseATempFolderNeverTheCurrentOne()
    {
        string byDefault = OutputFolder.Resolve(null);
        Assert.StartsWith(Path.GetFullPath(Path.GetTempPath()), byDefault);
        Assert.NotEqual(Path.GetFullPath(Environment.CurrentDirectory), byDefault);
        Assert.True(Directory.Exists(byDefault));

        string named = Path.Combine(Path.GetTempPath(), "freezing-" + Guid.NewGuid().ToString("N"));
        try { Assert.Equal(Path.GetFullPath(named), OutputFolder.Resolve(named)); Assert.True(Directory.Exists(named)); }
        finally { Directory.Delete(named); }
    }
}
