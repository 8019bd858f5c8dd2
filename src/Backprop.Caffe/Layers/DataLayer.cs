using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Data layer over an LMDB of Datum records: batches of batch_size records in key order, cycling,
/// transformed as transform_param says — (pixel − mean) · scale, with crop_size (random in TRAIN, centred in
/// TEST) and mirror (random in TRAIN). The records are read into memory once, at setup.
/// </summary>
public sealed class DataLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private DatumRecords records = null!;
    private int cursor, randSkip, crop;
    private float scale;
    private float[] mean = [];
    private bool mirror;

    public int BatchSize { get; private set; }

    /// <summary>Number of records in the database.</summary>
    public int DatasetSize => records?.Count ?? 0;

    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.DataParam ?? throw Error("data_param is missing.");
        if (!p.HasSource) throw Error("data_param.source is missing.");
        if (p.Backend != DataParameter.Types.DB.Lmdb) throw Error($"backend {p.Backend} is not supported; Backprop reads LMDB (backend: LMDB).");
        if (p.BatchSize == 0) throw Error("data_param.batch_size must be positive.");
        var t = Definition.TransformParam ?? new TransformationParameter();
        if (t.HasMeanFile || p.HasMeanFile) throw Error("mean_file is not supported; use mean_value.");
        BatchSize = (int)p.BatchSize;
        randSkip = (int)p.RandSkip;
        scale = t.HasScale ? t.Scale : p.Scale;
        crop = (int)(t.HasCropSize ? t.CropSize : p.CropSize);
        mirror = t.HasMirror ? t.Mirror : p.Mirror;
        string source = PathResolver.Resolve(p.Source, context.BaseDirectory);
        records = DatumRecords.Load(source, Where);
        if (records.Count == 0) throw Error($"the database {source} holds no records.");
        int c = records.Channels;
        if (t.MeanValue.Count != 0 && t.MeanValue.Count != 1 && t.MeanValue.Count != c)
            throw Error($"mean_value needs 1 or {c} values, got {t.MeanValue.Count}.");
        mean = t.MeanValue.Count == 0 ? new float[c] : Enumerable.Range(0, c).Select(i => t.MeanValue[t.MeanValue.Count == 1 ? 0 : i]).ToArray();
        if (crop > Math.Min(records.Height, records.Width))
            throw Error($"crop_size {crop} is larger than the {records.Height}x{records.Width} images.");
        Seek(0);
        int h = crop > 0 ? crop : records.Height, w = crop > 0 ? crop : records.Width;
        var data = new Shape(BatchSize, c, h, w);
        return Definition.Top.Count == 2 ? [data, new Shape(BatchSize)] : [data];
    }

    /// <summary>Positions the cursor at sample <paramref name="sample"/> of the endless sequence (after rand_skip).</summary>
    public void Seek(long sample) => cursor = (int)((randSkip + sample) % Math.Max(records.Count, 1));

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        int c = records.Channels, h = records.Height, w = records.Width;
        int oh = crop > 0 ? crop : h, ow = crop > 0 ? crop : w;
        var data = Tensor.Zeros(BatchSize, c, oh, ow);
        var labels = Tensor.Zeros(BatchSize);
        var d = data.AsSpan();
        var l = labels.AsSpan();
        var random = context.RandomFor(layerIndex);
        var pixels = new float[c * h * w];
        for (int n = 0; n < BatchSize; n++)
        {
            l[n] = records.Read(cursor, pixels);
            cursor = (cursor + 1) % records.Count;
            int top = 0, left = 0;
            if (crop > 0)
            {
                top = context.IsTraining ? random.NextInt(h - crop + 1) : (h - crop) / 2;
                left = context.IsTraining ? random.NextInt(w - crop + 1) : (w - crop) / 2;
            }
            bool flip = mirror && context.IsTraining && random.NextInt(2) == 1;
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < oh; y++)
                    for (int x = 0; x < ow; x++)
                    {
                        int sx = flip ? left + ow - 1 - x : left + x;
                        d[((n * c + ch) * oh + y) * ow + x] = (pixels[(ch * h + top + y) * w + sx] - mean[ch]) * scale;
                    }
        }
        return Definition.Top.Count == 2 ? [data, labels] : [data];
    }
}
