using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Parameter: no bottoms; its top is its one learnable blob, of parameter_param's shape. Caffe leaves the blob
/// at zero (it has no filler): trained values come from a .caffemodel.
/// </summary>
public sealed class ParameterLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override (int Min, int Max) Bottoms => (0, 0);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var shape = Definition.ParameterParam?.Shape ?? throw Error("parameter_param needs a shape.");
        var dims = BlobShapes.From(shape, Where);
        if (Blobs.Count == 0) AddBlob(Zeros(context, "blob", dims.ToArray()));
        return [dims];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) => [Blobs[0]];
}
