using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's LSTM (see <see cref="RecurrentLayer"/> for the bottoms, cont and the carried state). At each step t:
/// gates = W_hc·(cont[t]·h[t−1]) + (W_xc·x[t] + b_c) [+ W_xc_static·x_static], then <see cref="LstmUnitLayer"/>'s
/// step gives c[t] and h[t]; the top is h (T, N, H). Blobs, in Caffe's order: W_xc (4H, inputs), b_c (4H),
/// W_xc_static (4H, static inputs) when x_static is given, W_hc (4H, H); the 4H rows are the gates i, f, o, g.
/// With expose_hidden the extra bottoms are h_0 then c_0, the extra tops h_T then c_T.
/// </summary>
public sealed class LstmLayer(LayerParameter definition) : RecurrentLayer(definition)
{
    protected override int StateCount => 2;

    protected override void CreateBlobs(RecurrentParameter p, int inputs, int staticInputs, NetContext context, Generator filler)
    {
        int gates = 4 * Hidden;
        int at = 0;
        Blob(at++, "W_xc", p.WeightFiller, context, filler, gates, inputs);
        Blob(at++, "b_c", p.BiasFiller, context, filler, gates);
        if (staticInputs >= 0) Blob(at++, "W_xc_static", p.WeightFiller, context, filler, gates, staticInputs);
        Blob(at, "W_hc", p.WeightFiller, context, filler, gates, Hidden);
    }

    protected override (Tensor Output, Tensor[] Final) Unroll(Tensor x, Tensor cont, Tensor? xStatic, Tensor[] initial)
    {
        int w = 0;
        var wx = Blobs[w++];
        var bias = Blobs[w++];
        var wStatic = xStatic is null ? null : Blobs[w++];
        var wh = Blobs[w];
        var fromX = Functional.Linear(x, wx, bias);                              // (T, N, 4H), all steps at once
        var fromStatic = xStatic is null ? null : Functional.Linear(xStatic, wStatic!); // (N, 4H)
        int n = x.Shape[1];
        Tensor h = initial[0], c = initial[1];
        var outputs = new Tensor[Steps];
        for (int t = 0; t < Steps; t++)
        {
            var keep = ContAt(cont, t);
            // Summed in the order of Caffe's Eltwise: recurrent term, x term, static term.
            var gates = Functional.Linear(h * keep, wh) + fromX.Slice(t, t + 1).Reshape(n, 4 * Hidden);
            if (fromStatic is not null) gates += fromStatic;
            (c, h) = LstmUnitLayer.Step(c, gates, keep);
            outputs[t] = h;
        }
        return (Tensor.Concat(outputs, 0).Reshape(Steps, n, Hidden), [h, c]);
    }
}
