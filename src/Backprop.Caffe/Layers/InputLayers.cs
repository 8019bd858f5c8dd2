using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>Caffe's Input: tops whose values the caller supplies (<see cref="NetContext.Inputs"/>), with declared shapes.</summary>
public sealed class InputLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, int.MaxValue);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var shapes = Definition.InputParam?.Shape ?? [];
        int tops = Definition.Top.Count;
        if (shapes.Count != 1 && shapes.Count != tops)
            throw Error($"input_param needs one shape, or one per top ({tops}); got {shapes.Count}.");
        return Enumerable.Range(0, tops).Select(i => BlobShapes.From(shapes[shapes.Count == 1 ? 0 : i], Where)).ToArray();
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex) =>
        Definition.Top.Select(name => context.Inputs.TryGetValue(name, out var t) ? t
            : throw Error($"no value was given for input blob '{name}'.")).ToArray();
}

/// <summary>Caffe's DummyData: tops of the given shapes filled by data_filler (constant 0 by default) on every pass.</summary>
public sealed class DummyDataLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private Shape[] shapes = [];

    public override (int Min, int Max) Bottoms => (0, 0);
    public override (int Min, int Max) Tops => (1, int.MaxValue);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.DummyDataParam ?? throw Error("dummy_data_param is missing.");
        int tops = Definition.Top.Count;
        if (p.Shape.Count > 0)
        {
            if (p.Shape.Count != 1 && p.Shape.Count != tops) throw Error($"give one shape, or one per top ({tops}).");
            shapes = Enumerable.Range(0, tops).Select(i => BlobShapes.From(p.Shape[p.Shape.Count == 1 ? 0 : i], Where)).ToArray();
        }
        else
        {
            uint Pick(IList<uint> v, int i) => v.Count == 0 ? 1 : v[v.Count == 1 ? 0 : i];
            shapes = Enumerable.Range(0, tops).Select(i => new Shape((int)Pick(p.Num, i), (int)Pick(p.Channels, i), (int)Pick(p.Height, i), (int)Pick(p.Width, i))).ToArray();
        }
        if (p.DataFiller.Count > 1 && p.DataFiller.Count != tops) throw Error($"give one data_filler, or one per top ({tops}).");
        return shapes;
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var p = Definition.DummyDataParam!;
        var generator = context.RandomFor(layerIndex);
        return shapes.Select((s, i) =>
        {
            var t = Tensor.Zeros(s.ToArray());
            var f = p.DataFiller.Count == 0 ? null : p.DataFiller[p.DataFiller.Count == 1 ? 0 : i];
            Fillers.Fill(t, f, generator, $"{Where} data_filler");
            return t;
        }).ToArray();
    }
}

/// <summary>Conversions of Caffe's BlobShape.</summary>
internal static class BlobShapes
{
    public static Shape From(BlobShape shape, string where)
    {
        var dims = new int[shape.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            long d = shape.Dim[i];
            if (d < 0 || d > int.MaxValue) throw new CaffeNetException($"{where}: shape dimension {d} is out of range.");
            dims[i] = (int)d;
        }
        return new Shape(dims);
    }

    public static BlobShape To(Shape shape)
    {
        var s = new BlobShape();
        foreach (int d in shape.ToArray()) s.Dim.Add(d);
        return s;
    }
}
