using Backprop.Kernels;

namespace Backprop.Bench;

/// <summary>
/// Kernel-level <see cref="AbCases"/>: the BatchNorm and pooling kernels called directly on buffers made once, so a
/// timing is the kernel's memory traffic and arithmetic alone (the op-level <c>bn:...:bwd</c> case also clones the input's
/// gradient into a fresh array each call, as a leaf's first gradient is: page faults that swamp the kernel).
/// </summary>
internal static class AbKernelCases
{
    /// <summary>
    /// bnk:N,C,H,W:{bn|bnrelu|bnaddrelu}:{fwd|bwd|eval}: Kernels.BatchNorm's training forward or backward, or the
    /// evaluation-mode normalize (running statistics, not folded), on (N, C, H·W).
    /// </summary>
    public static Action BatchNorm(string shape, string op, string pass)
    {
        int[] d = shape.Split(',').Select(int.Parse).ToArray();
        if (d.Length != 4) throw new ArgumentException($"bnk case shape '{shape}' is not N,C,H,W; cases: {AbCases.Help}.");
        int n = d[0], c = d[1], inner = d[2] * d[3];
        long length = (long)n * c * inner;
        float[] x = Data.Random(length, 1), r = Data.Random(length, 2), dy = Data.Random(length, 3);
        float[] w = Data.Random(c, 4), b = Data.Random(c, 5), y = new float[length], dx = new float[length], masked = new float[length];
        double[] mean = new double[c], variance = new double[c], invStd = new double[c], sa = new double[c], sb = new double[c];
        bool relu = op == "bnrelu", addRelu = op == "bnaddrelu";
        if (!relu && !addRelu && op != "bn") throw new ArgumentException($"Unknown bn op '{op}'; cases: {AbCases.Help}.");
        Kernels.BatchNorm.TrainingForward(x, n, c, inner, 1e-5f, w, b, mean, variance, invStd, y, relu);
        if (addRelu) Kernels.BatchNorm.TrainingForwardAddRelu(x, r, n, c, inner, 1e-5f, w, b, mean, variance, invStd, y);
        return pass switch
        {
            "fwd" when addRelu => () => Kernels.BatchNorm.TrainingForwardAddRelu(x, r, n, c, inner, 1e-5f, w, b, mean, variance, invStd, y),
            "fwd" => () => Kernels.BatchNorm.TrainingForward(x, n, c, inner, 1e-5f, w, b, mean, variance, invStd, y, relu),
            "bwd" when addRelu => () => Kernels.BatchNorm.TrainingBackwardAddRelu(x, y, dy, n, c, inner, mean, invStd, w, sa, sb, masked, dx),
            "bwd" => () => Kernels.BatchNorm.TrainingBackward(x, dy, n, c, inner, mean, invStd, w, b, sa, sb, dx, relu),
            "eval" when addRelu => () => Kernels.BatchNorm.NormalizeAddRelu(x, r, n, c, inner, mean, invStd, w, b, y),
            "eval" => () => Kernels.BatchNorm.Normalize(x, n, c, inner, mean, invStd, w, b, y, relu),
            _ => throw new ArgumentException($"Unknown bnk pass '{pass}'; cases: {AbCases.Help}."),
        };
    }

    /// <summary>pool:N,C,H,W:{fwd|bwd}: 2x2 stride-2 max pooling (the VGG stack's) on (N, C, H, W).</summary>
    public static Action MaxPool2x2(string shape, string pass)
    {
        int[] d = shape.Split(',').Select(int.Parse).ToArray();
        var g = Pool2dGeometry.Create(d[0], d[1], d[2], d[3], 2, 2, 2, 2, 0, 0, false);
        float[] x = Data.Random(g.InputLength, 1), y = new float[g.OutputLength], dy = Data.Random(g.OutputLength, 2), dx = new float[g.InputLength];
        int[] argmax = new int[g.OutputLength];
        Pooling.MaxForward(g, x, y, argmax);
        return pass switch
        {
            "fwd" => () => Pooling.MaxForward(g, x, y, argmax),
            "bwd" => () => Pooling.MaxBackward(g, dy, argmax, dx),
            _ => throw new ArgumentException($"Unknown pooling pass '{pass}'; cases: {AbCases.Help}."),
        };
    }
}
