using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's RNN (see <see cref="RecurrentLayer"/> for the bottoms, cont and the carried state). At each step t:
/// h[t] = tanh(W_hh·(cont[t]·h[t−1]) + (W_xh·x[t] + b_h) [+ W_xh_static·x_static]), and the top is
/// o[t] = tanh(W_ho·h[t] + b_o), (T, N, H). Blobs, in Caffe's order: W_xh (H, inputs), b_h (H), W_xh_static (H, static
/// inputs) when x_static is given, W_hh (H, H), W_ho (H, H), b_o (H). With expose_hidden the extra bottom is h_0 and
/// the extra top h_T.
/// </summary>
public sealed class RnnLayer(LayerParameter definition) : RecurrentLayer(definition)
{
    protected override int StateCount => 1;

    protected override void CreateBlobs(RecurrentParameter p, int inputs, int staticInputs, NetContext context, Generator filler)
    {
        int at = 0;
        Blob(at++, "W_xh", p.WeightFiller, context, filler, Hidden, inputs);
        Blob(at++, "b_h", p.BiasFiller, context, filler, Hidden);
        if (staticInputs >= 0) Blob(at++, "W_xh_static", p.WeightFiller, context, filler, Hidden, staticInputs);
        Blob(at++, "W_hh", p.WeightFiller, context, filler, Hidden, Hidden);
        Blob(at++, "W_ho", p.WeightFiller, context, filler, Hidden, Hidden);
        Blob(at, "b_o", p.BiasFiller, context, filler, Hidden);
    }

    protected override (Tensor Output, Tensor[] Final) Unroll(Tensor x, Tensor cont, Tensor? xStatic, Tensor[] initial)
    {
        int w = 0;
        var wx = Blobs[w++];
        var bias = Blobs[w++];
        var wStatic = xStatic is null ? null : Blobs[w++];
        var wh = Blobs[w++];
        var wo = Blobs[w++];
        var biasOut = Blobs[w];
        var fromX = Functional.Linear(x, wx, bias);                                    // (T, N, H), all steps at once
        var fromStatic = xStatic is null ? null : Functional.Linear(xStatic, wStatic!); // (N, H)
        int n = x.Shape[1];
        Tensor h = initial[0];
        var hidden = new Tensor[Steps];
        for (int t = 0; t < Steps; t++)
        {
            // Summed in the order of Caffe's Eltwise: recurrent term, x term, static term.
            var sum = Functional.Linear(h * ContAt(cont, t), wh) + fromX.Slice(t, t + 1).Reshape(n, Hidden);
            if (fromStatic is not null) sum += fromStatic;
            h = Functional.Tanh(sum);
            hidden[t] = h;
        }
        // The output transform has no recurrence: one product over all steps.
        var output = Functional.Tanh(Functional.Linear(Tensor.Concat(hidden, 0), wo, biasOut));
        return (output.Reshape(Steps, n, Hidden), [h]);
    }
}
