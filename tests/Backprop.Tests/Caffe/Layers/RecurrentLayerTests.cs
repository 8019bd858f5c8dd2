using Backprop.Caffe;
using Backprop.Caffe.Layers;
using static Backprop.Tests.Caffe.Layers.RecurrentFixtures;
using static Backprop.Tests.Caffe.Layers.RecurrentLayerTestKit;

namespace Backprop.Tests.Caffe.Layers;

/// <summary>Caffe's LSTM and RNN layers against PyTorch 1.13 (weights mapped from Caffe's layout), by hand, and by gradient checks.</summary>
public class RecurrentLayerTests
{
    private static string Lstm(int h, string extra = "") =>
        $"name: 'lstm' type: 'LSTM' recurrent_param {{ num_output: {h} weight_filler {{ type: 'uniform' min: -0.5 max: 0.5 }} bias_filler {{ type: 'uniform' min: -0.5 max: 0.5 }} {extra} }}";

    private static string Rnn(int h, string extra = "") =>
        $"name: 'rnn' type: 'RNN' recurrent_param {{ num_output: {h} weight_filler {{ type: 'uniform' min: -0.5 max: 0.5 }} bias_filler {{ type: 'uniform' min: -0.5 max: 0.5 }} {extra} }}";

    [Fact]
    public void LstmMatchesPyTorchWithAResetInOneStream()
    {
        var d = LstmDims;   // T, N, D, H
        var layer = Make(Lstm(d[3]), new Shape(d[0], d[1], d[2]), new Shape(d[0], d[1]));
        Assert.Equal([new Shape(4 * d[3], d[2]), new Shape(4 * d[3]), new Shape(4 * d[3], d[3])], layer.Blobs.Select(b => b.Shape));
        SetBlob(layer, 0, LstmWxc);
        SetBlob(layer, 1, LstmBc);
        SetBlob(layer, 2, LstmWhc);
        var x = Leaf(LstmX, d[0], d[1], d[2]);
        var h = Forward(layer, x, Tensor.FromArray(LstmCont, d[0], d[1]))[0];
        Close(LstmH, h, "h");
        (h * Tensor.FromArray(LstmR, h.Shape.ToArray())).Sum().Backward();
        Close(LstmDX, x.Grad, "dx");
        Close(LstmDWxc, layer.Blobs[0].Grad, "dW_xc");
        Close(LstmDBc, layer.Blobs[1].Grad, "db_c");
        Close(LstmDWhc, layer.Blobs[2].Grad, "dW_hc");
    }

    [Fact]
    public void LstmWithExposedHiddenStartsFromTheGivenStateAndReturnsTheLast()
    {
        var d = LstmInitDims;
        var layer = Make(Lstm(d[3], "expose_hidden: true"), new Shape(d[0], d[1], d[2]), new Shape(d[0], d[1]),
            new Shape(1, d[1], d[3]), new Shape(1, d[1], d[3]));
        SetBlob(layer, 0, LstmInitWxc);
        SetBlob(layer, 1, LstmInitBc);
        SetBlob(layer, 2, LstmInitWhc);
        var x = Leaf(LstmInitX, d[0], d[1], d[2]);
        var tops = Forward(layer, x, Tensor.FromArray(LstmInitCont, d[0], d[1]),
            Tensor.FromArray(LstmInitH0, 1, d[1], d[3]), Tensor.FromArray(LstmInitC0, 1, d[1], d[3]));
        Assert.Equal(3, tops.Length);
        Close(LstmInitH, tops[0], "h");
        Close(LstmInitHT, tops[1], "h_T");
        Close(LstmInitCT, tops[2], "c_T");
        Assert.False(tops[1].RequiresGrad);   // Caffe passes no gradient back through the exposed final state
        (tops[0] * Tensor.FromArray(LstmInitR, tops[0].Shape.ToArray())).Sum().Backward();
        Close(LstmInitDX, x.Grad, "dx");
        Close(LstmInitDWxc, layer.Blobs[0].Grad, "dW_xc");
        Close(LstmInitDWhc, layer.Blobs[2].Grad, "dW_hc");
    }

    [Fact]
    public void RnnMatchesPyTorchWithResets()
    {
        var d = RnnDims;
        var layer = Make(Rnn(d[3]), new Shape(d[0], d[1], d[2]), new Shape(d[0], d[1]));
        // Caffe's order without a static input: W_xh, b_h, W_hh, W_ho, b_o.
        Assert.Equal([new Shape(d[3], d[2]), new Shape(d[3]), new Shape(d[3], d[3]), new Shape(d[3], d[3]), new Shape(d[3])],
            layer.Blobs.Select(b => b.Shape));
        float[][] weights = [RnnWxh, RnnBh, RnnWhh, RnnWho, RnnBo];
        for (int i = 0; i < weights.Length; i++) SetBlob(layer, i, weights[i]);
        var x = Leaf(RnnX, d[0], d[1], d[2]);
        var o = Forward(layer, x, Tensor.FromArray(RnnCont, d[0], d[1]))[0];
        Close(RnnO, o, "o");
        (o * Tensor.FromArray(RnnR, o.Shape.ToArray())).Sum().Backward();
        Close(RnnDX, x.Grad, "dx");
        Close(RnnDWxh, layer.Blobs[0].Grad, "dW_xh");
        Close(RnnDBh, layer.Blobs[1].Grad, "db_h");
        Close(RnnDWhh, layer.Blobs[2].Grad, "dW_hh");
        Close(RnnDWho, layer.Blobs[3].Grad, "dW_ho");
        Close(RnnDBo, layer.Blobs[4].Grad, "db_o");
    }
}
