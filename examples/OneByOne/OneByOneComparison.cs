using System.Diagnostics;
using Backprop;
using Backprop.Nn;

namespace OneByOne;

/// <summary>A <c>Conv2d(C, C', 1)</c> and a <c>Linear(C, C')</c> holding the same numbers.</summary>
public sealed class TwinLayers
{
    public TwinLayers(int inChannels, int outChannels, Generator generator)
    {
        Conv = new Conv2d(inChannels, outChannels, 1, generator: generator);
        Linear = new Linear(inChannels, outChannels, generator: generator);
        // Conv weight (C', C, 1, 1) and Linear weight (C', C) are the same C'·C numbers in the same order.
        Conv.Weight.AsSpan().CopyTo(Linear.Weight.AsSpan());
        Conv.Bias!.AsSpan().CopyTo(Linear.Bias!.AsSpan());
    }

    public Conv2d Conv { get; }
    public Linear Linear { get; }

    /// <summary>Conv output (N, C', H, W) for input (N, C, H, W).</summary>
    public Tensor ApplyConv(Tensor input) => Conv.Forward(input);

    /// <summary>
    /// The Linear layer applied at every pixel: (N, C, H, W) → channels last (N, H, W, C) → Linear over the last
    /// dimension → (N, H, W, C') → back to (N, C', H, W).
    /// </summary>
    public Tensor ApplyLinearPerPixel(Tensor input) => Linear.Forward(input.Permute(0, 2, 3, 1)).Permute(0, 3, 1, 2);
}

/// <summary>Largest difference between the two layers' outputs, and time per output element of each.</summary>
public static class OneByOneComparison
{
    /// <summary>max |conv(x) − linear-per-pixel(x)| over every output element, for x ~ N(0, 1) of shape (N, C, H, W).</summary>
    public static float MaxDifference(int batch, int inChannels, int outChannels, int height, int width, ulong seed = 1)
    {
        var generator = new Generator(seed);
        var layers = new TwinLayers(inChannels, outChannels, generator);
        var x = Tensor.Randn(generator, batch, inChannels, height, width);
        using (Backprop.Autograd.Autograd.NoGrad())
        {
            var a = layers.ApplyConv(x).AsSpan();
            var b = layers.ApplyLinearPerPixel(x).AsSpan();
            float max = 0;
            for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
            return max;
        }
    }

    /// <summary>
    /// Median nanoseconds per output element of the forward pass of each layer, each on the layout it reads:
    /// the conv on (N, C, H, W), the Linear on the same values already in channels-last order (N·H·W, C), so
    /// the layout change is not timed. One untimed call each warms up first.
    /// </summary>
    public static (double ConvNs, double LinearNs) NanosecondsPerElement(int batch, int inChannels, int outChannels, int height, int width,
        int repetitions = 10, ulong seed = 1)
    {
        var generator = new Generator(seed);
        var layers = new TwinLayers(inChannels, outChannels, generator);
        var x = Tensor.Randn(generator, batch, inChannels, height, width);
        var rows = x.Permute(0, 2, 3, 1).Reshape(batch * height * width, inChannels);
        double elements = (double)batch * outChannels * height * width;
        var conv = new List<double>();
        var linear = new List<double>();
        using (Backprop.Autograd.Autograd.NoGrad())
        {
            for (int rep = -1; rep < repetitions; rep++)   // alternate the two so a busy machine slows both alike
            {
                long t0 = Stopwatch.GetTimestamp();
                layers.Conv.Forward(x);
                long t1 = Stopwatch.GetTimestamp();
                layers.Linear.Forward(rows);
                long t2 = Stopwatch.GetTimestamp();
                if (rep < 0) continue;
                conv.Add(Stopwatch.GetElapsedTime(t0, t1).TotalNanoseconds / elements);
                linear.Add(Stopwatch.GetElapsedTime(t1, t2).TotalNanoseconds / elements);
            }
        }
        return (Median(conv), Median(linear));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
