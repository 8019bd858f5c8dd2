using Backprop.Nn;

namespace Backprop.Tests.AutogradEngine;

public class PostAccumulateGradHookTests
{
    [Fact]
    public void HooksFireOncePerBackwardAfterTheGradientIsComplete()
    {
        var w = new Parameter(Tensor.FromArray([1f, 2f], 2));
        var seen = new List<float[]>();
        using var handle = w.RegisterPostAccumulateGradHook(p => seen.Add(p.Grad!.ToArray()));
        var x = Tensor.FromArray([3f, 4f], 2);
        ((w * x).Sum() + (w * w).Sum()).Backward();   // w feeds two ops: the hook sees the sum of both, once
        Assert.Equal([[5f, 8f]], seen);
        (w * x).Sum().Backward();
        Assert.Equal(2, seen.Count);
        Assert.Equal([8f, 12f], seen[1]);   // after accumulating into the existing gradient
    }

    [Fact]
    public void LaterLayersFireFirstAndDisposeRemovesTheHook()
    {
        var g = new Generator(1);
        var model = new Sequential(new Linear(3, 4, generator: g), new Relu(), new Linear(4, 2, generator: g));
        var order = new List<string>();
        var handles = model.NamedParameters().Select(p => p.Value.RegisterPostAccumulateGradHook(_ => order.Add(p.Key))).ToList();
        model.Forward(Tensor.Randn(g, 5, 3)).Sum().Backward();
        Assert.Equal(4, order.Count);
        Assert.True(order.IndexOf("2.weight") < order.IndexOf("0.weight"), string.Join(", ", order));
        foreach (var h in handles) h.Dispose();
        model.Forward(Tensor.Randn(g, 5, 3)).Sum().Backward();
        Assert.Equal(4, order.Count);
    }

    [Fact]
    public void OnlyLeavesTakeTheHook()
    {
        var w = new Parameter(Tensor.FromArray([1f], 1));
        var y = w * 2;
        var e = Assert.Throws<InvalidOperationException>(() => y.RegisterPostAccumulateGradHook(_ => { }));
        Assert.Contains("only be registered on a leaf", e.Message);
    }

    [Fact]
    public void AWeightGradientAddedInPlaceByLinearStillFiresOnceWithTheWholeSum()
    {
        // With a gradient already there (zeroed in place, as Caffe's solver does), Linear adds dW inside its own
        // product and returns none: the hook must still fire, once, after both uses of a shared weight.
        var g = new Generator(2);
        var weight = new Parameter(Tensor.Randn(g, 3, 4));
        weight.Grad = Tensor.ZerosLike(weight);
        var seen = new List<float[]>();
        using var handle = weight.RegisterPostAccumulateGradHook(p => seen.Add(p.Grad!.ToArray()));
        var a = Tensor.Randn(g, 5, 4);
        var b = Tensor.Randn(g, 2, 4);
        (Functional.Linear(a, weight).Sum() + Functional.Linear(b, weight).Sum()).Backward();
        Assert.Single(seen);
        // d/dW of the sums: every row of W gets the column sums of a and b.
        var expected = new float[12];
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 4; i++)
            {
                float sum = 0;
                for (int r = 0; r < 5; r++) sum += a.ToArray()[r * 4 + i];
                for (int r = 0; r < 2; r++) sum += b.ToArray()[r * 4 + i];
                expected[o * 4 + i] = sum;
            }
        for (int k = 0; k < 12; k++) Assert.Equal(expected[k], seen[0][k], 4);
    }
}
