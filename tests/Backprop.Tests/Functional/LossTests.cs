using Xunit.Abstractions;
using static Backprop.Tests.TestTensors;

namespace Backprop.Tests.FunctionalOps;

public class LossTests(ITestOutputHelper output)
{
    [Fact]
    public void CrossEntropyByHand()
    {
        // log(e^1 + e^2 + e^3) − 3
        var loss = Backprop.Functional.CrossEntropy(Tensor.FromArray([1f, 2f, 3f], 1, 3), [2]);
        Assert.Equal(0.40760596f, loss.Item(), 6);
        // Mean of two rows: row 2 has logits [0, 0, 0] and any label: log 3.
        var two = Backprop.Functional.CrossEntropy(Tensor.FromArray([1f, 2f, 3f, 0f, 0f, 0f], 2, 3), [0, 1]);
        Assert.Equal((float)((Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3)) - 1 + Math.Log(3)) / 2), two.Item(), 6);
        // An ignored label adds nothing and is not counted.
        var ignored = Backprop.Functional.CrossEntropy(Tensor.FromArray([1f, 2f, 3f, 9f, 0f, 0f], 2, 3), [2, -100]);
        Assert.Equal(0.40760596f, ignored.Item(), 6);
        var custom = Backprop.Functional.CrossEntropy(Tensor.FromArray([1f, 2f, 3f, 9f, 0f, 0f], 2, 3), [2, 1], ignoreIndex: 1);
        Assert.Equal(0.40760596f, custom.Item(), 6);
        // Large logits stay finite.
        var big = Backprop.Functional.CrossEntropy(Tensor.FromArray([1000f, -1000f], 1, 2), [1]);
        Assert.Equal(2000f, big.Item());
    }

    private static double ReferenceCrossEntropy(Tensor logits, int[] labels, int ignore)
    {
        int n = logits.Shape[0], c = logits.Shape[1], inner = logits.Length / (n * c);
        float[] x = logits.ToArray();
        double total = 0;
        int count = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < inner; j++)
            {
                int label = labels[i * inner + j];
                if (label == ignore) continue;
                double s = 0;
                for (int k = 0; k < c; k++) s += Math.Exp(x[(i * c + k) * inner + j]);
                total += Math.Log(s) - x[(i * c + label) * inner + j];
                count++;
            }
        return total / count;
    }

    [Fact]
    public void CrossEntropyTwoDimensional()
    {
        var x = Leaf(new Generator(71), 4, 5);
        int[] labels = [1, 4, -100, 0];
        Assert.Equal(ReferenceCrossEntropy(x, labels, -100), Backprop.Functional.CrossEntropy(x, labels).Item(), 5);
        GradientCheck.Check(xs => Backprop.Functional.CrossEntropy(xs[0], labels), [x], output, "cross entropy (N, C)", ["logits"]);
    }

    [Fact]
    public void CrossEntropySpatial()
    {
        var x = Leaf(new Generator(72), 2, 3, 2, 3);
        int[] labels = [0, 1, 2, 2, -100, 1, 1, 0, 0, 2, 1, -100];
        Assert.Equal(ReferenceCrossEntropy(x, labels, -100), Backprop.Functional.CrossEntropy(x, labels).Item(), 5);
        GradientCheck.Check(xs => Backprop.Functional.CrossEntropy(xs[0], labels), [x], output, "cross entropy (N, C, H, W)", ["logits"]);
    }

    [Fact]
    public void CrossEntropyRejectsBadLabels()
    {
        var x = Tensor.Zeros(2, 3);
        Assert.Throws<ArgumentException>(() => Backprop.Functional.CrossEntropy(x, [0, 3]));
        Assert.Throws<ArgumentException>(() => Backprop.Functional.CrossEntropy(x, [0]));
        Assert.Throws<ArgumentException>(() => Backprop.Functional.CrossEntropy(x, [-1, 0]));
    }

    [Fact]
    public void MseAndEuclideanByHand()
    {
        // Differences 1, 0, −2, 3: squares sum to 14.
        var a = Tensor.FromArray([1f, 2f, 3f, 4f]);
        var b = Tensor.FromArray([0f, 2f, 5f, 1f]);
        Assert.Equal(3.5f, Backprop.Functional.MseLoss(a.Reshape(2, 2), b.Reshape(2, 2)).Item(), 6);
        Assert.Equal(1.75f, Backprop.Functional.EuclideanLoss(a.Reshape(4, 1), b.Reshape(4, 1)).Item(), 6);   // 14 / (2·4)
        Assert.Equal(7f, Backprop.Functional.EuclideanLoss(a.Reshape(1, 4), b.Reshape(1, 4)).Item(), 6);      // 14 / (2·1)
        Assert.Throws<ArgumentException>(() => Backprop.Functional.MseLoss(a, b.Reshape(2, 2)));
    }

    [Fact]
    public void MseAndEuclideanGradients()
    {
        var g = new Generator(73);
        var x = Leaf(g, 3, 4);
        var t = Leaf(g, 3, 4);
        GradientCheck.Check(xs => Backprop.Functional.MseLoss(xs[0], xs[1]), [x, t], output, "mse", ["input", "target"]);
        GradientCheck.Check(xs => Backprop.Functional.EuclideanLoss(xs[0], xs[1]), [x, t], output, "euclidean", ["input", "target"]);
        var fixedTarget = Tensor.Randn(g, 3, 4);
        GradientCheck.Check(xs => Backprop.Functional.EuclideanLoss(xs[0], fixedTarget), [x], output, "euclidean, fixed target", ["input"]);
    }

    [Fact]
    public void SmoothL1ByHand()
    {
        var d = Tensor.FromArray([0.5f, -2f, 1.5f]);
        var zero = Tensor.Zeros(3);
        Assert.Equal(0.875f, Backprop.Functional.SmoothL1Loss(d, zero).Item(), 6);                // (0.125 + 1.5 + 1) / 3
        Assert.Equal(3.25f / 3, Backprop.Functional.SmoothL1Loss(d, zero, 0.5f).Item(), 6);      // (0.25 + 1.75 + 1.25) / 3
        Assert.Equal(4f / 3, Backprop.Functional.SmoothL1Loss(d, zero, 0f).Item(), 6);           // L1
        Assert.Equal(0.02f, Backprop.Functional.SmoothL1Loss(Tensor.FromArray([0.2f]), Tensor.FromArray([0f])).Item(), 6);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(0f)]
    public void SmoothL1Gradient(float beta)
    {
        // Differences kept at least 0.05 away from 0 and from ±beta.
        var g = new Generator(74);
        var target = Tensor.Randn(g, 3, 5);
        target.RequiresGrad = true;
        var diff = new float[15];
        for (int i = 0; i < diff.Length; i++)
        {
            float mag = (i % 3) switch
            {
                0 => 0.05f + (beta - 0.1f) * g.NextFloat(),
                1 => beta + 0.05f + g.NextFloat(),
                _ => beta + 0.5f + 2 * g.NextFloat(),
            };
            if (beta == 0) mag = 0.05f + 2 * g.NextFloat();
            diff[i] = g.NextFloat() < 0.5f ? -Math.Max(mag, 0.05f) : Math.Max(mag, 0.05f);
        }
        var input = target.Detach() + Tensor.FromArray(diff, 3, 5);
        input.RequiresGrad = true;
        GradientCheck.Check(xs => Backprop.Functional.SmoothL1Loss(xs[0], xs[1], beta), [input, target], output, $"smooth L1 beta={beta}",
            ["input", "target"], step: 1e-2);
    }

    [Fact]
    public void AccuracyTopOneAndTopK()
    {
        var scores = Tensor.FromArray([
            0.1f, 0.5f, 0.4f,     // best 1
            0.3f, 0.3f, 0.2f,     // tie between 0 and 1
            0.2f, 0.1f, 0.7f,     // best 2, then 0
            0.6f, 0.3f, 0.1f], 4, 3);
        Assert.Equal(0.5f, Backprop.Functional.Accuracy(scores, [1, 2, 0, 0]));   // rows 0 and 3
        // Ties: a label tied for best has no class strictly higher, so both tied labels count as correct.
        Assert.Equal(1f, Backprop.Functional.Accuracy(scores, [1, 1, 2, 0]));
        Assert.Equal(1f, Backprop.Functional.Accuracy(scores, [1, 0, 2, 0]));
        Assert.Equal(0.5f, Backprop.Functional.Accuracy(scores, [2, 2, 0, 2], topK: 2));   // rows 0 and 2 second; rows 1 and 3 third
        Assert.Equal(0f, Backprop.Functional.Accuracy(scores, [2, 2, 0, 2], topK: 1));
        Assert.Equal(1f, Backprop.Functional.Accuracy(scores, [2, 2, 1, 2], topK: 3));
        Assert.Equal(2f / 3, Backprop.Functional.Accuracy(scores, [1, -100, 2, 1]), 6);
    }

    [Fact]
    public void AccuracyTiesInTopK()
    {
        // Scores 0.9, 0.5, 0.5, 0.5, 0.1: a 0.5 class has one class strictly above, so it is in the top 2 (Caffe's rule).
        var s = Tensor.FromArray([0.9f, 0.5f, 0.5f, 0.5f, 0.1f], 1, 5);
        Assert.Equal(1f, Backprop.Functional.Accuracy(s, [3], topK: 2));
        Assert.Equal(0f, Backprop.Functional.Accuracy(s, [3], topK: 1));
        Assert.Equal(0f, Backprop.Functional.Accuracy(s, [4], topK: 4));
        Assert.Equal(1f, Backprop.Functional.Accuracy(s, [4], topK: 5));
    }

    [Fact]
    public void AccuracySpatial()
    {
        // (N=1, C=2, H=1, W=3): positions pick classes 0, 1, 1.
        var s = Tensor.FromArray([0.9f, 0.2f, 0.1f, 0.1f, 0.8f, 0.9f], 1, 2, 1, 3);
        Assert.Equal(1f, Backprop.Functional.Accuracy(s, [0, 1, 1]));
        Assert.Equal(1f / 3, Backprop.Functional.Accuracy(s, [1, 1, 0]), 6);
    }
}
