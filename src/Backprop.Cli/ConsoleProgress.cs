using Backprop.Caffe;
using Spectre.Console;

namespace Backprop.Cli;

/// <summary>Draws a progress bar for solver runs when stdout is a terminal; log lines print above it.</summary>
internal static class ConsoleProgress
{
    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="work"/> with a progress bar (or without one when output is redirected).</summary>
    public static void Run(string title, int start, int total, Action<IProgress<SolverProgress>?, TextWriter> work)
    {
        if (!Interactive)
        {
            work(null, Console.Out);
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title, maxValue: total);
                task.Value = start;
                var progress = new SynchronousProgress<SolverProgress>(p =>
                {
                    task.Value = p.Iteration;
                    task.Description = $"{title} loss {p.SmoothedLoss:F4}";
                });
                work(progress, new LineWriter(line => AnsiConsole.WriteLine(line)));
            });
    }

    /// <summary>A writer that hands each completed line to a callback (so lines render above the bar).</summary>
    private sealed class LineWriter(Action<string> writeLine) : TextWriter
    {
        private readonly System.Text.StringBuilder pending = new();
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value)
        {
            if (value == '\n') { writeLine(pending.ToString()); pending.Clear(); }
            else if (value != '\r') pending.Append(value);
        }
    }
}
