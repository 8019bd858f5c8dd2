using Backprop.Caffe.Proto;

namespace Backprop.Caffe;

/// <summary>Caffe's include/exclude rules: which layers belong to a net in a given state (phase, level, stages).</summary>
public static class NetStateFilter
{
    /// <summary>True when the layer belongs to a net in <paramref name="state"/> (as Caffe's Net::StateMeetsRule).</summary>
    public static bool Includes(LayerParameter layer, NetState state)
    {
        if (layer.Include.Count > 0 && layer.Exclude.Count > 0)
            throw new CaffeNetException($"Layer '{layer.Name}' has both include and exclude rules; Caffe allows only one kind.");
        if (layer.Include.Count > 0) return layer.Include.Any(rule => Meets(state, rule));
        return !layer.Exclude.Any(rule => Meets(state, rule));
    }

    private static bool Meets(NetState state, NetStateRule rule)
    {
        if (rule.HasPhase && rule.Phase != state.Phase) return false;
        if (rule.HasMinLevel && state.Level < rule.MinLevel) return false;
        if (rule.HasMaxLevel && state.Level > rule.MaxLevel) return false;
        if (rule.Stage.Any(s => !state.Stage.Contains(s))) return false;
        if (rule.NotStage.Any(s => state.Stage.Contains(s))) return false;
        return true;
    }
}
