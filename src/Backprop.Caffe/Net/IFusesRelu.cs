namespace Backprop.Caffe;

/// <summary>
/// A layer that can apply a following in-place ReLU (negative_slope 0) to its single top itself, in the same pass over
/// the data, with the same bits forward and backward (<see cref="CaffeNet"/> decides when: see its Build).
/// </summary>
internal interface IFusesRelu
{
    /// <summary>Whether this layer, as set up, has a fused path (checked after <see cref="CaffeLayer.Setup"/>).</summary>
    bool CanFuseRelu { get; }

    /// <summary>The layer's forward followed by a ReLU on its top, as one op.</summary>
    IReadOnlyList<Tensor> ForwardRelu(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex);
}
