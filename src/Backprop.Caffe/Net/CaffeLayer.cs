using Backprop.Caffe.Proto;
using Backprop.Nn;

namespace Backprop.Caffe;

/// <summary>
/// One Caffe layer over Backprop's core ops. Like Caffe's Layer: read parameters once, infer top shapes
/// from bottom shapes in <see cref="Setup"/> (creating learnable blobs there), then compute tops in
/// <see cref="Forward"/>. Backward is autograd's: every op a layer uses records its own gradient.
/// </summary>
public abstract class CaffeLayer
{
    private readonly List<Parameter> blobs = [];

    protected CaffeLayer(LayerParameter definition) => Definition = definition;

    /// <summary>The layer's prototxt definition.</summary>
    public LayerParameter Definition { get; }

    public string Name => Definition.Name;
    public string Type => Definition.Type;

    /// <summary>The layer's parameter blobs in Caffe's order (weights, then bias; BatchNorm's statistics).</summary>
    public IReadOnlyList<Parameter> Blobs => blobs;

    /// <summary>Loss layers weigh their first top by 1 unless loss_weight says otherwise.</summary>
    public virtual bool IsLoss => false;

    /// <summary>Allowed numbers of bottoms and tops.</summary>
    public virtual (int Min, int Max) Bottoms => (1, 1);
    public virtual (int Min, int Max) Tops => (1, 1);

    /// <summary>Checks the bottom shapes, creates the blobs and returns the top shapes.</summary>
    public abstract IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler);

    /// <summary>Computes the tops.</summary>
    public abstract IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex);

    protected Parameter AddBlob(Tensor value)
    {
        var p = new Parameter(value);
        blobs.Add(p);
        return p;
    }

    /// <summary>A zero tensor for a learnable blob, refused (naming this layer) before allocating when it would not fit in memory.</summary>
    protected Tensor Zeros(NetContext context, string what, params int[] dims)
    {
        var shape = new Shape(dims);
        LayerMemory.EnsureFits(Where, $"its {what} {shape}", [shape], context);
        return Tensor.Zeros(dims);
    }

    internal void ReplaceBlob(int index, Parameter shared) => blobs[index] = shared;

    /// <summary>An error that names this layer.</summary>
    protected CaffeNetException Error(string message) => new($"Layer '{Name}' (type {Type}): {message}");

    /// <summary>Where, for messages: <c>layer 'conv1'</c>.</summary>
    protected string Where => $"Layer '{Name}' (type {Type})";

    public override string ToString() => $"{Name} ({Type})";
}
