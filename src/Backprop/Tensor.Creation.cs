namespace Backprop;

public partial class Tensor
{
    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape) => new(new Shape(shape));

    /// <summary>
    /// A tensor whose values are not set (PyTorch's <c>torch.empty</c>), for code that writes every element.
    /// Inside a <see cref="TensorMemoryPool"/> scope its memory comes from the pool, like an op's result.
    /// </summary>
    public static Tensor Empty(params int[] shape) => Uninitialized(new Shape(shape));

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var t = new Tensor(new Shape(shape));
        t.AsSpan().Fill(value);
        return t;
    }

    /// <summary>A zero tensor of the same shape as <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => new(like.Shape);

    /// <summary>A tensor of ones of the same shape as <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Full(1f, like.Shape.ToArray());

    /// <summary>A single-element tensor of rank 0.</summary>
    public static Tensor Scalar(float value) => new([value], 0, new Shape());

    /// <summary>A tensor holding a copy of <paramref name="data"/> in the given shape (row-major).</summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        var s = shape.Length == 0 ? new Shape(data.Length) : new Shape(shape);
        if (s.Length != data.Length)
            throw new ArgumentException($"{data.Length} values cannot fill a tensor of shape {s} ({s.Length} elements).");
        return new Tensor((float[])data.Clone(), 0, s);
    }

    /// <summary>Values start, start+step, ... below end (as <c>torch.arange</c>).</summary>
    public static Tensor Arange(float start, float end, float step = 1f)
    {
        if (step == 0 || float.IsNaN(step)) throw new ArgumentException("Arange needs a non-zero step.");
        double count = Math.Ceiling((end - (double)start) / step);
        if (count < 0) throw new ArgumentException($"Arange({start}, {end}, {step}) has the wrong sign of step.");
        var t = new Tensor(new Shape((int)count));
        var d = t.AsSpan();
        for (int i = 0; i < d.Length; i++) d[i] = (float)(start + (double)i * step);
        return t;
    }

    /// <summary>0, 1, ..., n-1.</summary>
    public static Tensor Arange(int n) => Arange(0, n);

    /// <summary>Uniform values in [low, high) drawn from <paramref name="generator"/>.</summary>
    public static Tensor Uniform(Generator generator, float low, float high, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var t = new Tensor(new Shape(shape));
        generator.FillUniform(t.AsSpan(), low, high);
        return t;
    }

    /// <summary>Uniform values in [0, 1) (as <c>torch.rand</c>).</summary>
    public static Tensor Rand(Generator generator, params int[] shape) => Uniform(generator, 0f, 1f, shape);

    /// <summary>Normal values with the given mean and standard deviation.</summary>
    public static Tensor Normal(Generator generator, float mean, float std, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var t = new Tensor(new Shape(shape));
        generator.FillNormal(t.AsSpan(), mean, std);
        return t;
    }

    /// <summary>Standard normal values (as <c>torch.randn</c>).</summary>
    public static Tensor Randn(Generator generator, params int[] shape) => Normal(generator, 0f, 1f, shape);
}
