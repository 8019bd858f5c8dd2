namespace Backprop.Nn;

/// <summary>Which fan a variance-scaling initializer divides by (Caffe's <c>variance_norm</c>, PyTorch's <c>mode</c>).</summary>
public enum FanMode { FanIn, FanOut, Average }

/// <summary>
/// Weight initializers under the names each field uses, filling a tensor in place from an explicit
/// generator. Fans of a weight of shape (out, in, k1, k2, ...) are fan_in = in·k1·k2·… and
/// fan_out = out·k1·k2·… (Caffe: count/num and count/channels).
/// </summary>
public static class Init
{
    /// <summary>Truncated normals (Keras) are cut at 2 standard deviations; this keeps their variance equal to the target.</summary>
    private const double TruncatedNormalStdCorrection = 0.87962566103423978;

    public static (int FanIn, int FanOut) Fans(Shape shape)
    {
        if (shape.Rank < 1) throw new ArgumentException("Fan-based initializers need a tensor of rank 1 or more.");
        if (shape.Rank == 1) return (shape[0], shape[0]);
        int receptive = 1;
        for (int i = 2; i < shape.Rank; i++) receptive *= shape[i];
        return (shape[1] * receptive, shape[0] * receptive);
    }

    private static double Fan(Shape shape, FanMode mode)
    {
        var (fanIn, fanOut) = Fans(shape);
        return mode switch { FanMode.FanIn => fanIn, FanMode.FanOut => fanOut, _ => (fanIn + fanOut) / 2.0 };
    }

    /// <summary>Caffe's <c>constant</c> filler.</summary>
    public static void Constant(Tensor tensor, float value) => tensor.AsSpan().Fill(value);

    /// <summary>Caffe's <c>uniform</c> filler: U[low, high).</summary>
    public static void Uniform(Tensor tensor, float low, float high, Generator generator) => generator.FillUniform(tensor.AsSpan(), low, high);

    /// <summary>Caffe's <c>gaussian</c> filler: N(mean, std²).</summary>
    public static void Gaussian(Tensor tensor, float mean, float std, Generator generator) => generator.FillNormal(tensor.AsSpan(), mean, std);

    /// <summary>Caffe's <c>xavier</c> filler: U[−a, a] with a = √(3 / n), n the fan chosen by <paramref name="varianceNorm"/>.</summary>
    public static void Xavier(Tensor tensor, Generator generator, FanMode varianceNorm = FanMode.FanIn)
    {
        float a = (float)Math.Sqrt(3.0 / Fan(tensor.Shape, varianceNorm));
        generator.FillUniform(tensor.AsSpan(), -a, a);
    }

    /// <summary>Caffe's <c>msra</c> filler: N(0, 2 / n), n the fan chosen by <paramref name="varianceNorm"/>.</summary>
    public static void Msra(Tensor tensor, Generator generator, FanMode varianceNorm = FanMode.FanIn) =>
        generator.FillNormal(tensor.AsSpan(), 0f, (float)Math.Sqrt(2.0 / Fan(tensor.Shape, varianceNorm)));

    /// <summary>Keras's <c>glorot_uniform</c>: U[−a, a] with a = √(6 / (fan_in + fan_out)).</summary>
    public static void GlorotUniform(Tensor tensor, Generator generator)
    {
        var (fanIn, fanOut) = Fans(tensor.Shape);
        float a = (float)Math.Sqrt(6.0 / (fanIn + fanOut));
        generator.FillUniform(tensor.AsSpan(), -a, a);
    }

    /// <summary>Keras's <c>glorot_normal</c>: truncated normal with standard deviation √(2 / (fan_in + fan_out)).</summary>
    public static void GlorotNormal(Tensor tensor, Generator generator)
    {
        var (fanIn, fanOut) = Fans(tensor.Shape);
        TruncatedNormal(tensor, Math.Sqrt(2.0 / (fanIn + fanOut)) / TruncatedNormalStdCorrection, generator);
    }

    /// <summary>Keras's <c>he_uniform</c>: U[−a, a] with a = √(6 / fan_in).</summary>
    public static void HeUniform(Tensor tensor, Generator generator)
    {
        float a = (float)Math.Sqrt(6.0 / Fans(tensor.Shape).FanIn);
        generator.FillUniform(tensor.AsSpan(), -a, a);
    }

    /// <summary>Keras's <c>he_normal</c>: truncated normal with standard deviation √(2 / fan_in).</summary>
    public static void HeNormal(Tensor tensor, Generator generator) =>
        TruncatedNormal(tensor, Math.Sqrt(2.0 / Fans(tensor.Shape).FanIn) / TruncatedNormalStdCorrection, generator);

    /// <summary>Keras's <c>lecun_uniform</c>: U[−a, a] with a = √(3 / fan_in).</summary>
    public static void LeCunUniform(Tensor tensor, Generator generator)
    {
        float a = (float)Math.Sqrt(3.0 / Fans(tensor.Shape).FanIn);
        generator.FillUniform(tensor.AsSpan(), -a, a);
    }

    /// <summary>Keras's <c>lecun_normal</c>: truncated normal with standard deviation √(1 / fan_in).</summary>
    public static void LeCunNormal(Tensor tensor, Generator generator) =>
        TruncatedNormal(tensor, Math.Sqrt(1.0 / Fans(tensor.Shape).FanIn) / TruncatedNormalStdCorrection, generator);

    /// <summary>
    /// PyTorch's <c>kaiming_uniform_</c>: U[−b, b] with b = gain·√(3 / fan), gain = √(2 / (1 + a²)).
    /// PyTorch's default for Conv2d and Linear weights is a = √5, which gives b = 1/√fan_in.
    /// </summary>
    public static void KaimingUniform(Tensor tensor, Generator generator, double a = 0, FanMode mode = FanMode.FanIn)
    {
        double gain = Math.Sqrt(2.0 / (1 + a * a));
        float bound = (float)(gain * Math.Sqrt(3.0 / Fan(tensor.Shape, mode)));
        generator.FillUniform(tensor.AsSpan(), -bound, bound);
    }

    /// <summary>PyTorch's <c>kaiming_normal_</c>: N(0, gain² / fan), gain = √(2 / (1 + a²)).</summary>
    public static void KaimingNormal(Tensor tensor, Generator generator, double a = 0, FanMode mode = FanMode.FanIn) =>
        generator.FillNormal(tensor.AsSpan(), 0f, (float)(Math.Sqrt(2.0 / (1 + a * a)) / Math.Sqrt(Fan(tensor.Shape, mode))));

    /// <summary>PyTorch's default for Conv2d and Linear: weight as <see cref="KaimingUniform"/> with a = √5, bias U[−1/√fan_in, 1/√fan_in].</summary>
    public static void PyTorchDefault(Tensor weight, Tensor? bias, Generator generator)
    {
        KaimingUniform(weight, generator, Math.Sqrt(5));
        if (bias is null) return;
        float bound = (float)(1 / Math.Sqrt(Fans(weight.Shape).FanIn));
        generator.FillUniform(bias.AsSpan(), -bound, bound);
    }

    /// <summary>Normal values with standard deviation <paramref name="std"/>, redrawn until within 2 standard deviations.</summary>
    public static void TruncatedNormal(Tensor tensor, double std, Generator generator)
    {
        var d = tensor.AsSpan();
        for (int i = 0; i < d.Length; i++)
        {
            float z;
            do z = generator.NextNormal(); while (Math.Abs(z) > 2f);
            d[i] = (float)(z * std);
        }
    }
}
