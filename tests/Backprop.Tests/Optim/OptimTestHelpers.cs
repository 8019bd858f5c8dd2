using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Optim;

/// <summary>Shared fixtures: a 3-element parameter and gradients that differ per step.</summary>
internal static class OptimTestHelpers
{
    /// <summary>The starting weights.</summary>
    public static readonly double[] W0 = [1.0, -2.0, 0.5];

    /// <summary>The gradient for steps 1, 2, 3.</summary>
    public static readonly double[][] Grads =
    [
        [0.5, -1.0, 2.0],
        [-0.25, 0.75, 1.5],
        [1.0, 0.5, -0.5],
    ];

    public static Parameter Param(params double[] values) =>
        new(Tensor.FromArray(values.Select(v => (float)v).ToArray(), values.Length));

    public static void SetGrad(Parameter p, double[] g) =>
        p.Grad = Tensor.FromArray(g.Select(v => (float)v).ToArray(), g.Length);

    /// <summary>Runs <paramref name="steps"/> steps of <paramref name="optimizer"/> on its only parameter with <see cref="Grads"/>.</summary>
    public static void Run(Optimizer optimizer, int steps = 3, float[]? rates = null)
    {
        var p = optimizer.Parameters.Single();
        for (int s = 0; s < steps; s++)
        {
            if (rates is not null) optimizer.LearningRate = rates[s];
            SetGrad(p, Grads[s]);
            optimizer.Step();
        }
    }

    public static double Sign(double x) => x > 0 ? 1 : x < 0 ? -1 : 0;

    public static void AssertClose(double[] expected, Tensor actual, double rtol = 2e-6, double atol = 1e-7)
    {
        var a = actual.ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
        {
            double tol = atol + rtol * Math.Abs(expected[i]);
            Assert.True(Math.Abs(a[i] - expected[i]) <= tol,
                $"element {i}: expected {expected[i]:R}, got {a[i]:R} (diff {Math.Abs(a[i] - expected[i]):E2}, tolerance {tol:E2})");
        }
    }

    public static void AssertDiffer(Tensor a, Tensor b, double minDiff = 1e-4)
    {
        var x = a.ToArray();
        var y = b.ToArray();
        double max = 0;
        for (int i = 0; i < x.Length; i++) max = Math.Max(max, Math.Abs(x[i] - y[i]));
        Assert.True(max > minDiff, $"expected the results to differ by more than {minDiff}, max diff {max:E2}");
    }
}
