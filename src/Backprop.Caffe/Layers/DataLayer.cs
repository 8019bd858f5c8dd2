using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>Caffe's Data layer (placeholder until the LMDB reader lands).</summary>
public sealed class DataLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public int BatchSize => 0;
    public int DatasetSize => 0;
    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, 2);
    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler) => throw Error("pending");
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) => throw Error("pending");
}
