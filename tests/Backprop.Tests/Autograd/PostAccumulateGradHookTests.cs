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
}
