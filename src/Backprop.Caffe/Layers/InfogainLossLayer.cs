using Backprop.Caffe.Proto;
using Google.Protobuf;
using static Backprop.Caffe.Proto.LossParameter.Types;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's InfogainLoss: softmax of the scores along <c>infogain_loss_param.axis</c>, then
/// −Σ_l H[label, l]·log(max(p_l, 1e-20)) per position, divided by the normalizer of loss_param.normalization (VALID by
/// default). H (C x C) comes from a third bottom, or else from <c>infogain_loss_param.source</c>, a binaryproto BlobProto.
/// A second top gets the probabilities.
/// </summary>
public sealed class InfogainLossLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private Tensor? fileMatrix;
    private int axis;
    private int? ignoreLabel;
    private NormalizationMode mode;

    public override bool IsLoss => true;
    public override (int Min, int Max) Bottoms => (2, 3);
    public override (int Min, int Max) Tops => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.InfogainLossParam ?? new InfogainLossParameter();
        if (Definition.LossParam is { HasNormalize: true }) throw Error("loss_param.normalize is deprecated for InfogainLoss; use normalization.");
        if (bottoms[0].Rank < 1) throw Error($"scores must have a class axis, got {bottoms[0]}.");
        axis = bottoms[0].NormalizeAxis(p.Axis);
        int classes = bottoms[0][axis];
        if (classes == 0 || bottoms[1].Length * classes != bottoms[0].Length)
            throw Error($"{bottoms[1].Length} labels for scores {bottoms[0]}: need one label per position along axis {axis}.");
        ignoreLabel = LossNormalization.IgnoreLabel(Definition.LossParam);
        mode = LossNormalization.Mode(Definition.LossParam, NormalizationMode.Valid);
        if (bottoms.Count == 3)
        {
            if (bottoms[2].Length != classes * classes) throw Error($"the infogain bottom {bottoms[2]} must hold {classes}x{classes} values.");
        }
        else
        {
            if (!p.HasSource || p.Source.Length == 0) throw Error("give the infogain matrix as a third bottom or as infogain_loss_param.source.");
            fileMatrix = ReadMatrix(PathResolver.Resolve(p.Source, context.BaseDirectory), classes);
        }
        return Definition.Top.Count == 2 ? [new Shape(), bottoms[0]] : [new Shape()];
    }

    private Tensor ReadMatrix(string path, int classes)
    {
        BlobProto blob;
        try
        {
            using var stream = File.OpenRead(path);
            blob = BlobProto.Parser.ParseFrom(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidProtocolBufferException)
        {
            throw Error($"cannot read the infogain matrix '{path}': {e.Message}");
        }
        int count = blob.Data.Count > 0 ? blob.Data.Count : blob.DoubleData.Count;
        if (count != classes * classes)
            throw Error($"the infogain matrix '{path}' holds {count} values; {classes} classes need {classes}x{classes}.");
        float[] values = blob.Data.Count > 0 ? [.. blob.Data] : blob.DoubleData.Select(d => (float)d).ToArray();
        return Tensor.FromArray(values, classes, classes);
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var scores = bottoms[0];
        int[] labels = Labels.Read(bottoms[1], Where);
        var matrix = bottoms.Count == 3 ? bottoms[2].Detach() : fileMatrix!;
        int outer = 1;
        for (int i = 0; i < axis; i++) outer *= scores.Shape[i];
        int valid = ignoreLabel is int ignore ? labels.Count(l => l != ignore) : labels.Length;
        float normalizer = LossNormalization.Normalizer(mode, outer, labels.Length / Math.Max(outer, 1), valid);
        var loss = Functional.InfogainLossSum(scores, labels, matrix, axis, ignoreLabel) / normalizer;
        return Definition.Top.Count == 2 ? [loss, Functional.Softmax(scores.Detach(), axis)] : [loss];
    }
}
