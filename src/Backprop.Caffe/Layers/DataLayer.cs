using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's Data layer over an LMDB or LevelDB (backend: LEVELDB, through the system's LevelDB library) of Datum records: batches of batch_size records in key order, cycling,
/// transformed as transform_param says (see <see cref="DataTransformer"/>) — (pixel − mean) · scale, with
/// crop_size (random in TRAIN, centred in TEST) and mirror (random in TRAIN). The records are read into
/// memory once, at setup.
/// </summary>
public sealed class DataLayer(LayerParameter definition) : CaffeLayer(definition), IDataSourceLayer
{
    private DatumRecords records = null!;
    private DataTransformer transformer = null!;
    private int cursor, randSkip;

    public int BatchSize { get; private set; }

    /// <summary>Number of records in the database.</summary>
    public int DatasetSize => records?.Count ?? 0;

    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.DataParam ?? throw Error("data_param is missing.");
        if (!p.HasSource) throw Error("data_param.source is missing.");
        if (p.BatchSize == 0) throw Error("data_param.batch_size must be positive.");
        transformer = new DataTransformer(Definition.TransformParam, Where, p.Scale, p.CropSize, p.Mirror, p.HasMeanFile ? p.MeanFile : null, context.BaseDirectory);
        BatchSize = (int)p.BatchSize;
        randSkip = (int)p.RandSkip;
        string source = PathResolver.Resolve(p.Source, context.BaseDirectory);
        var t = Definition.TransformParam;
        bool? color = p.ForceEncodedColor || t?.ForceColor == true ? true : t?.ForceGray == true ? false : null;   // for encoded records
        records = DatumRecords.Load(source, Where, p.Backend, color);
        if (records.Count == 0) throw Error($"the database {source} holds no records.");
        transformer.Setup(records.Channels, records.Height, records.Width);
        Seek(0);
        var (c, h, w) = transformer.OutputSize;
        var data = new Shape(BatchSize, c, h, w);
        return Definition.Top.Count == 2 ? [data, new Shape(BatchSize)] : [data];
    }

    /// <summary>Positions the cursor at sample <paramref name="sample"/> of the endless sequence (after rand_skip).</summary>
    public void Seek(long sample) => cursor = (int)((randSkip + sample) % Math.Max(records.Count, 1));

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var pixels = new float[records.Channels * records.Height * records.Width];
        var (data, labels) = transformer.Batch(BatchSize, context.RandomFor(layerIndex), context.IsTraining, () =>
        {
            float label = records.Read(cursor, pixels);
            cursor = (cursor + 1) % records.Count;
            return (pixels, label);
        });
        return Definition.Top.Count == 2 ? [data, labels] : [data];
    }
}
