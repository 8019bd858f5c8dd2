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
    public void ABugIsNotSwallowed() =>
        Assert.Throws<NullReferenceException>(() => CommandErrors.Run(() => throw new NullReferenceException()));
}
