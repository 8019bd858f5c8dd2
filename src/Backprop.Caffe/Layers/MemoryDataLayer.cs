using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's MemoryData: tops data (batch_size, channels, height, width) and label (batch_size) served from arrays the
/// caller hands over with <see cref="Reset"/>; each forward pass takes the next batch and wraps around at the end, as
/// Caffe's MemoryDataLayer does.
/// </summary>
public sealed class MemoryDataLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private int batch, channels, height, width;
    private float[] data = [], labels = [];
    private int count, position;

    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, 2);

    /// <summary>The number of examples one forward pass takes.</summary>
    public int BatchSize => batch;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.MemoryDataParam ?? throw Error("memory_data_param is missing.");
        (batch, channels, height, width) = ((int)p.BatchSize, (int)p.Channels, (int)p.Height, (int)p.Width);
        if (batch <= 0 || channels <= 0 || height <= 0 || width <= 0)
            throw Error($"batch_size, channels, height and width must all be positive, got {p.BatchSize}, {p.Channels}, {p.Height}, {p.Width}.");
        var shape = new Shape(batch, channels, height, width);
        return Definition.Top.Count == 2 ? [shape, new Shape(batch)] : [shape];
    }

    /// <summary>
    /// Hands over <paramref name="count"/> examples: <paramref name="examples"/> holds count·channels·height·width values
    /// (row-major), <paramref name="exampleLabels"/> count labels. The count must be a multiple of batch_size. The next
    /// forward pass starts at the first example.
    /// </summary>
    public void Reset(float[] examples, float[] exampleLabels, int count)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(exampleLabels);
        if (count <= 0 || count % batch != 0)
            throw Error($"Reset needs a positive multiple of batch_size {batch} examples, got {count}.");
        long size = (long)channels * height * width;
        if (examples.Length != count * size) throw Error($"Reset got {examples.Length} values for {count} examples of {channels}x{height}x{width}.");
        if (exampleLabels.Length != count) throw Error($"Reset got {exampleLabels.Length} labels for {count} examples.");
        (data, labels, this.count, position) = (examples, exampleLabels, count, 0);
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        if (count == 0) throw Error("no data yet; call MemoryDataLayer.Reset before the forward pass.");
        int size = channels * height * width;
        var top = Tensor.FromArray(data.AsSpan(position * size, batch * size).ToArray(), batch, channels, height, width);
        var label = Tensor.FromArray(labels.AsSpan(position, batch).ToArray(), batch);
        position = (position + batch) % count;
        return Definition.Top.Count == 2 ? [top, label] : [top];
    }
}
