using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's LSTMUnit: one LSTM step. Bottoms: c_prev (1, N, H), the gate inputs X (1, N, 4H) and cont (1, N); tops: c
/// and h (1, N, H). X holds the pre-activations in Caffe's order i, f, o, g (each H wide):
/// i = σ(i'), f = cont·σ(f') (0 where cont is 0), o = σ(o'), g = tanh(g'); c = f ⊙ c_prev + i ⊙ g; h = o ⊙ tanh(c).
/// No gradient reaches cont.
/// </summary>
public sealed class LstmUnitLayer(LayerParameter definition) : CaffeLayer(definition)
{
    public override (int Min, int Max) Bottoms => (3, 3);
    public override (int Min, int Max) Tops => (2, 2);

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        Check(bottoms[0], bottoms[1], bottoms[2]);
        return [bottoms[0], bottoms[0]];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var (cPrev, x, cont) = (bottoms[0], bottoms[1], bottoms[2]);
        Check(cPrev.Shape, x.Shape, cont.Shape);
        int n = cPrev.Shape[1], h = cPrev.Shape[2];
        var (c, hidden) = Step(cPrev.Reshape(n, h), x.Reshape(n, 4 * h), cont.Detach().Reshape(n, 1));
        return [c.Reshape(1, n, h), hidden.Reshape(1, n, h)];
    }

    /// <summary>
    /// One step. cPrev: (N, H); gates: (N, 4H) in the order i, f, o, g; cont: (N, 1), held constant.
    /// Returns c and h, (N, H) each.
    /// </summary>
    internal static (Tensor C, Tensor H) Step(Tensor cPrev, Tensor gates, Tensor cont)
    {
        int n = cPrev.Shape[0], h = cPrev.Shape[1];
        var byGate = gates.Reshape(n, 4, h).Transpose(0, 1);           // (4, N, H)
        var sigmoids = Functional.Sigmoid(byGate.Slice(0, 3));          // i, f, o
        var i = sigmoids.Slice(0, 1).Reshape(n, h);
        var f = sigmoids.Slice(1, 2).Reshape(n, h) * cont;
        var o = sigmoids.Slice(2, 3).Reshape(n, h);
        var g = Functional.Tanh(byGate.Slice(3, 4).Reshape(n, h));
        var c = f * cPrev + i * g;
        return (c, o * Functional.Tanh(c));
    }

    private void Check(Shape cPrev, Shape x, Shape cont)
    {
        if (cPrev.Rank != 3 || cPrev[0] != 1)
            throw Error($"bottom c_prev is {cPrev}; it must be (1, N, H).");
        int n = cPrev[1], h = cPrev[2];
        if (x.Rank != 3 || x[0] != 1 || x[1] != n || x[2] != 4 * h)
            throw Error($"bottom X (gate inputs) is {x}; with c_prev {cPrev} it must be (1, {n}, {4 * h}): i, f, o, g for each of the {h} cells.");
        if (cont.Rank != 2 || cont[0] != 1 || cont[1] != n)
            throw Error($"bottom cont is {cont}; it must be (1, {n}).");
    }
}
