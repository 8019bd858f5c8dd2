using Backprop.Caffe;
using Spectre.Console;

namespace Backprop.Cli;

/// <summary>Draws a progress bar for solver runs when stdout is a terminal; log lines print above it.</summary>
internal static class ConsoleProgress
{
    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar (or without one when output is redirected). The bar's loss is
    /// the one the log prints at its display iterations (every <paramref name="display"/>; 0: every iteration), so the
    /// two never disagree.
    /// </summary>
    public static void Run(string title, int start, int total, int display, Action<IProgress<SolverProgress>?, TextWriter> work)
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
                    task.Description = Describe(title, p, display, task.Description);
                });
                work(progress, new LineWriter(line => AnsiConsole.WriteLine(line)));
            });
    }

    /// <summary>
    /// The bar's text after <paramref name="p"/>: at a display iteration, the loss exactly as the solver's log line
    /// writes it (<c>loss = </c>, G6, invariant culture) and its iteration; between them, <paramref name="previous"/>.
    /// </summary>
    internal static string Describe(string title, SolverProgress p, int display, string previous)
    {
        int iteration = p.Iteration - 1;   // the solver reports after the step: Iteration is the next one to run
        if (display > 0 && iteration % display != 0) return previous;
        return FormattableString.Invariant($"{title}: iteration {iteration}, loss = {p.SmoothedLoss:G6}");
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
