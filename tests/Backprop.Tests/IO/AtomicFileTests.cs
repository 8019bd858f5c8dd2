using Backprop.IO;

namespace Backprop.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private string[] Names() => Directory.GetFileSystemEntries(dir.Path).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void WriteReplacesTheFileAndLeavesNoTemporaryFile()
    {
        string path = dir.File("a.bin");
        File.WriteAllText(path, "old");
        AtomicFile.Write(path, s => s.Write("new"u8));
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["a.bin"], Names());
    }

    [Fact]
    public void AFailedWriteKeepsTheOldFileAndDeletesTheTemporaryOne()
    {
        string path = dir.File("a.bin");
        File.WriteAllText(path, "old");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s => { s.Write("partial"u8); throw new IOException("No space left on device"); }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["a.bin"], Names());
    }

    [Fact]
    public void LinksPlantedAtGuessableTemporaryNamesNeverRedirectTheWrite()
    {
        if (OperatingSystem.IsWindows()) return;   // symbolic links need privileges there
        string victim = dir.File("victim.txt");
        File.WriteAllText(victim, "precious");
        string path = dir.File("snap_iter_10.caffemodel");
        // The old fixed name, this class's name without its random part, and the final path itself.
        foreach (var guess in new[] { path + ".tmp", dir.File(".snap_iter_10.caffemodel.tmp"), path })
            File.CreateSymbolicLink(guess, victim);
        AtomicFile.Write(path, s => s.Write("weights"u8));
        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Null(new FileInfo(path).LinkTarget);   // the snapshot is a file of its own, not a link
        Assert.Equal("weights", File.ReadAllText(path));
    }

    [Fact]
    public void TemporaryNamesAreUnpredictableAndRecognized()
    {
        string a = AtomicFile.TemporaryName("x_iter_1.caffemodel"), b = AtomicFile.TemporaryName("x_iter_1.caffemodel");
        Assert.NotEqual(a, b);
        Assert.True(AtomicFile.IsTemporaryNameOf(a, @"x_iter_[0-9]+\.caffemodel"));
        Assert.False(AtomicFile.IsTemporaryNameOf(a, @"y_iter_[0-9]+\.caffemodel"));
        Assert.False(AtomicFile.IsTemporaryNameOf("x_iter_1.caffemodel.tmp", @"x_iter_[0-9]+\.caffemodel"));
        Assert.False(AtomicFile.IsTemporaryNameOf(".x_iter_1.caffemodel.abc.tmp", @"x_iter_[0-9]+\.caffemodel"));
    }

    [Fact]
    public void PendingFilesAppearOnlyWhenCommitted()
    {
        string path = dir.File("m.bin");
        using (var pending = AtomicFile.Begin(path))
        {
            pending.Stream.Write("abc"u8);
            pending.Complete();
            Assert.False(File.Exists(path));
            Assert.True(File.Exists(pending.TemporaryPath));
        }   // disposed uncommitted
        Assert.Empty(Names());
        using (var pending = AtomicFile.Begin(path))
        {
            pending.Stream.Write("abc"u8);
            pending.Commit();
        }
        Assert.Equal(["m.bin"], Names());
    }

    [Fact]
    public void ProbeWritableFailsUnderAFileAndLeavesNothingBehind()
    {
        string file = dir.File("plain.txt");
        File.WriteAllText(file, "x");
        Assert.ThrowsAny<IOException>(() => AtomicFile.ProbeWritable(Path.Combine(file, "sub")));
        AtomicFile.ProbeWritable(dir.Path);
        Assert.Equal(["plain.txt"], Names());
    }
}
