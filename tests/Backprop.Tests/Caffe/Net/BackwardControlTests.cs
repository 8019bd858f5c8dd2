using Backprop.Caffe;
using Backprop.Caffe.Proto;

namespace Backprop.Tests.Caffe.Net;

/// <summary>propagate_down and debug_info, as Caffe's Net does them.</summary>
public class BackwardControlTests
{
    private const string TwoLayers = """
        layer { name: "in" type: "Input" top: "x" top: "l" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
        layer { name: "ip1" type: "InnerProduct" bottom: "x" top: "h" inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 0.5 } } }
        layer { name: "ip2" type: "InnerProduct" bottom: "h" top: "s" PROPAGATE inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.5 } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "s" bottom: "l" top: "loss" }
        """;

    private static NetContext Inputs()
    {
        var context = new NetContext(Phase.Train, 1);
        context.Inputs["x"] = Tensor.FromArray([1f, -2f, 0.5f, 0f, 1f, 3f], 2, 3);
        context.Inputs["l"] = Tensor.FromArray([0f, 1f], 2);
        return context;
    }

    [Fact]
    public void PropagateDownFalseStopsTheGradientIntoThatBottom()
    {
        var net = NetBuilderTests.Build(TwoLayers.Replace("PROPAGATE", "propagate_down: false"));
        net.Backward(net.Forward(Inputs()));
        var p = net.NamedParameters().ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Contains(p["ip2.0"].Grad!.ToArray(), v => v != 0);
        Assert.True(p["ip1.0"].Grad is null || p["ip1.0"].Grad!.ToArray().All(v => v == 0));

        var open = NetBuilderTests.Build(TwoLayers.Replace("PROPAGATE", ""));
        open.Backward(open.Forward(Inputs()));
        Assert.Contains(open.NamedParameters().First(kv => kv.Key == "ip1.0").Value.Grad!.ToArray(), v => v != 0);
    }

    [Fact]
    public void DebugInfoLogsCaffesLinesAndKeepsTheGradients()
    {
        var plain = NetBuilderTests.Build(TwoLayers.Replace("PROPAGATE", ""));
        plain.Backward(plain.Forward(Inputs()));

        var net = NetBuilderTests.Build("debug_info: true\n" + TwoLayers.Replace("PROPAGATE", ""));
        var lines = new List<string>();
        net.DebugLog = lines.Add;
        Assert.True(net.DebugInfo);
        net.Backward(net.Forward(Inputs()));

        // Mean |x| of the input: (1 + 2 + 0.5 + 0 + 1 + 3) / 6.
        Assert.Contains("    [Forward] Layer in, top blob x data: 1.25", lines);
        Assert.Contains(lines, l => l.StartsWith("    [Forward] Layer ip1, param blob 0 data: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("    [Backward] Layer loss, bottom blob s diff: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("    [Backward] Layer ip2, bottom blob h diff: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("    [Backward] Layer ip1, param blob 1 diff: ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("bottom blob x", StringComparison.Ordinal));   // the input needs no gradient
        Assert.StartsWith("    [Backward] All net params (data, diff): L1 norm = (", lines[^1], StringComparison.Ordinal);

        // The loss's gradient into s is (p − one-hot)/2; its mean |·| is what the line shows.
        var s = net.Forward(Inputs()).Blobs["s"].ToArray();
        double expected = 0;
        for (int r = 0; r < 2; r++)
        {
            double e0 = Math.Exp(s[2 * r]), e1 = Math.Exp(s[2 * r + 1]);
            expected += 2 * Math.Abs(e0 / (e0 + e1) - (r == 0 ? 1 : 0)) / 2;
        }
        string line = lines.First(l => l.StartsWith("    [Backward] Layer loss, bottom blob s diff: ", StringComparison.Ordinal));
        Assert.Equal(expected / 4, double.Parse(line.Split(": ")[1], System.Globalization.CultureInfo.InvariantCulture), 5);

        // Layer by layer gives the same parameter gradients as one backward pass.
        var a = plain.NamedParameters().ToDictionary(kv => kv.Key, kv => kv.Value.Grad!.ToArray());
        foreach (var (name, p) in net.NamedParameters())
            Assert.Equal(a[name], p.Grad!.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-6f);
    }

    [Theory]
    [InlineData(0.1234567, "0.123457")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(123456789.0, "1.23457e+08")]
    [InlineData(0, "0")]
    public void NumbersPrintAsCaffesLog(double value, string expected) => Assert.Equal(expected, NetDebugInfo.Format(value));
}
