using Backprop.Keras;

namespace Backprop.Tests.Keras;

[CollectionDefinition("ConsoleOutput", DisableParallelization = true)]
public sealed class ConsoleOutputCollection;

/// <summary><c>Summary()</c> prints as Keras's <c>summary()</c> does; these tests swap Console.Out, so nothing runs beside them.</summary>
[Collection("ConsoleOutput")]
public sealed class SummaryPrintingTests
{
    [Fact]
    public void SummaryPrintsByDefaultAndPrintFalseOnlyReturns()
    {
        var model = new Sequential(1, new Conv2D(32, (3, 3), inputShape: (64, 64, 3), activation: "relu"));
        var writer = new StringWriter();
        string returned = model.Summary(writer: writer);
        Assert.Equal(returned, writer.ToString());
        Assert.Contains(" conv2d (Conv2D)             (None, 62, 62, 32)        896\n", returned);

        var console = Console.Out;
        var captured = new StringWriter();
        try
        {
            Console.SetOut(captured);
            model.Summary();
            Assert.Equal(returned, captured.ToString());
            model.Summary(print: false);
            Assert.Equal(returned, captured.ToString());   // nothing more written
        }
        finally
        {
            Console.SetOut(console);
        }
    }
}
