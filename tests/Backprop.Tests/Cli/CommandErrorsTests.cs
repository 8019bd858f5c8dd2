using Backprop.Caffe;
using Backprop.Cli;

namespace Backprop.Tests.Cli;

/// <summary>User mistakes become one line and exit code 1; real bugs keep their exception (and stack trace).</summary>
public sealed class CommandErrorsTests
{
    [Fact]
    public void AnUnreadableFileIsAUserMistake()
    {
        var stderr = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Assert.Equal(1, CommandErrors.Run(() => throw new UnauthorizedAccessException("Access to the path '/data/x.caffemodel' is denied.")));
            Assert.Equal(1, CommandErrors.Run(() => throw new CaffeNetException("x.caffemodel: the file holds no layers.")));
        }
        finally { Console.SetError(stderr); }
        Assert.Contains("error: Access to the path '/data/x.caffemodel' is denied.", captured.ToString());
    }

    [Fact]
    public void AMissingSystemLibraryIsOneLine()
    {
        var stderr = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Assert.Equal(1, CommandErrors.Run(() => throw new DllNotFoundException("LevelDB is not installed; install it (Debian/Ubuntu: apt-get install libleveldb1d).")));
        }
        finally { Console.SetError(stderr); }
        Assert.Equal("error: LevelDB is not installed; install it (Debian/Ubuntu: apt-get install libleveldb1d).", captured.ToString().Trim());
    }

    [Fact]
    public void ABugIsNotSwallowed() =>
        Assert.Throws<NullReferenceException>(() => CommandErrors.Run(() => throw new NullReferenceException()));

    [Fact]
    public void ABadSimdSettingIsOneLineAtStart()
    {
        using var run = new CliProcess(new Dictionary<string, string> { ["BACKPROP_SIMD"] = "wide" }, "--help");
        Assert.Equal(1, run.WaitForExit());
        Assert.Contains("error: The environment variable BACKPROP_SIMD is 'wide'; it must be scalar, 128, 256 or 512", run.Output);
        Assert.DoesNotContain("TypeInitializationException", run.Output);
    }
}
