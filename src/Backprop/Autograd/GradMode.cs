namespace Backprop.Autograd;

/// <summary>Whether ops record the backward graph on this thread.</summary>
internal static class GradMode
{
    [ThreadStatic] private static bool disabled;

    public static bool IsEnabled => !disabled;

    public static NoGradScope Disable()
    {
        var scope = new NoGradScope(disabled);
        disabled = true;
        return scope;
    }

    internal static void Restore(bool wasDisabled) => disabled = wasDisabled;
}

/// <summary>Restores the previous grad mode when disposed; returned by <see cref="Autograd.NoGrad"/>.</summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly bool wasDisabled;
    internal NoGradScope(bool wasDisabled) => this.wasDisabled = wasDisabled;
    public void Dispose() => GradMode.Restore(wasDisabled);
}
