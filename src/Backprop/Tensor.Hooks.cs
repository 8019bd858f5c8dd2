namespace Backprop;

public partial class Tensor
{
    private List<Action<Tensor>>? postAccumulateGradHooks;

    /// <summary>
    /// Calls <paramref name="hook"/> with this leaf each time a backward pass has added into its <see cref="Grad"/>
    /// (PyTorch's <c>register_post_accumulate_grad_hook</c>): once per backward pass, right after this leaf's
    /// <c>AccumulateGrad</c> node ran, while the rest of backward still runs. Data-parallel training uses it to start
    /// sending a group of gradients as soon as they are all complete. Hooks run on the thread that called backward,
    /// in the order registered; dispose the returned handle to remove the hook.
    /// </summary>
    public IDisposable RegisterPostAccumulateGradHook(Action<Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (GradFn is not null)
            throw new InvalidOperationException(
                $"A post-accumulate-grad hook can only be registered on a leaf; this tensor of shape {Shape} was computed by {GradFn.Name}.");
        (postAccumulateGradHooks ??= []).Add(hook);
        return new HookHandle(this, hook);
    }

    /// <summary>
    /// Set by an op that added this leaf's gradient into <see cref="Grad"/> itself instead of returning it (Linear's
    /// weight, beta = 1): the leaf's AccumulateGrad node then has nothing to add but must still run its hooks, once.
    /// </summary>
    internal bool GradientAddedInPlace { get; set; }

    internal void RunPostAccumulateGradHooks()
    {
        if (postAccumulateGradHooks is not { Count: > 0 } hooks) return;
        foreach (var hook in hooks.ToArray()) hook(this);
    }

    private sealed class HookHandle(Tensor owner, Action<Tensor> hook) : IDisposable
    {
        public void Dispose() => owner.postAccumulateGradHooks?.Remove(hook);
    }
}
