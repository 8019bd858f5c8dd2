using System.Collections;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Backprop.Data;

/// <summary>
/// Runs an enumerator on a background thread, a bounded number of items ahead of the consumer. An exception
/// thrown by the source is rethrown (with its original type and stack) by the consumer's <see cref="MoveNext"/>
/// after the items produced before it. <see cref="Dispose"/> stops the worker and waits for it, so stopping
/// early (a <c>break</c> out of <c>foreach</c>) neither hangs nor leaves a thread behind.
/// </summary>
internal sealed class PrefetchEnumerator<T> : IEnumerator<T>
{
    private readonly IEnumerator<T> source;
    private readonly BlockingCollection<T> queue;
    private readonly CancellationTokenSource stop = new();
    private readonly Thread worker;
    private volatile ExceptionDispatchInfo? error;
    private T current = default!;
    private bool disposed;

    /// <param name="source">The enumerator to run; it is disposed on the worker thread when the worker ends.</param>
    /// <param name="capacity">How many finished items may wait for the consumer (at least 1).</param>
    public PrefetchEnumerator(IEnumerator<T> source, int capacity, string threadName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.source = source;
        queue = new BlockingCollection<T>(new ConcurrentQueue<T>(), capacity);
        worker = new Thread(Work) { IsBackground = true, Name = threadName };
        worker.Start();
    }

    private void Work()
    {
        var token = stop.Token;
        try
        {
            while (!token.IsCancellationRequested && source.MoveNext())
                queue.Add(source.Current, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // stopped by Dispose
        }
        catch (Exception e)
        {
            error = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            try { source.Dispose(); }
            catch (Exception e) { error ??= ExceptionDispatchInfo.Capture(e); }
            queue.CompleteAdding();
        }
    }

    public T Current => current;

    object? IEnumerator.Current => current;

    public bool MoveNext()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (queue.TryTake(out var item, Timeout.Infinite))
        {
            current = item;
            return true;
        }
        error?.Throw();
        return false;
    }

    public void Reset() => throw new NotSupportedException("Enumerate the data loader again to start a new epoch.");

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        stop.Cancel();
        worker.Join();
        queue.Dispose();
        stop.Dispose();
    }
}
