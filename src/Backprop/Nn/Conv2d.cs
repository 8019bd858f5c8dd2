namespace Backprop.Nn;

/// <summary>
/// 2-D convolution layer over (N, C, H, W). Weight (out, in/groups, KH, KW), bias (out).
/// Output size: OH = (H + 2·padding − dilation·(KH − 1) − 1) / stride + 1, rounded down; likewise OW.
/// Initialized as PyTorch does (<see cref="Init.PyTorchDefault"/>) from <c>generator</c> or <see cref="Generator.Default"/>.
/// </summary>
public sealed class Conv2d : Module
{
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1,
        bool bias = true, Generator? generator = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (dilation, dilation), groups, bias, generator) { }

    public Conv2d(int inChannels, int outChannels, (int Height, int Width) kernelSize, (int Height, int Width) stride,
        (int Height, int Width) padding, (int Height, int Width) dilation, int groups = 1, bool bias = true, Generator? generator = null)
        : this(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, generator, initialize: true) { }

    // initialize false: weights and bias stay zero and no generator is drawn from (a caller fills them, as Fusion does).
    internal Conv2d(int inChannels, int outChannels, (int Height, int Width) kernelSize, (int Height, int Width) stride,
        (int Height, int Width) padding, (int Height, int Width) dilation, int groups, bool bias, Generator? generator, bool initialize)
    {
        if (inChannels < 1 || outChannels < 1 || groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d({inChannels}, {outChannels}, groups={groups}): channels must be positive and divisible by groups.");
        if (kernelSize.Height < 1 || kernelSize.Width < 1)
            throw new ArgumentException($"Conv2d kernel size {kernelSize} must be positive.");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(outChannels, inChannels / groups, kernelSize.Height, kernelSize.Width)));
        Bias = bias ? RegisterParameter("bias", new Parameter(Tensor.Zeros(outChannels))) : null;
        if (initialize) Init.PyTorchDefault(Weight, Bias, generator ?? Generator.Default);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public (int Height, int Width) KernelSize { get; }
    public (int Height, int Width) Stride { get; }
    public (int Height, int Width) Padding { get; }
    public (int Height, int Width) Dilation { get; }
    public int Groups { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    /// <summary>
    /// The convolution of <paramref name="input"/> (<see cref="Functional.Conv2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, int)"/>).
    /// In evaluation mode the layer keeps its Winograd-transformed weights between calls where that path runs
    /// (<see cref="Kernels.WinogradWeightCache"/>: 3x3 or 5x5, stride 1, channels in multiples of 16), and at batch 1 on the
    /// direct path its packed weights (<see cref="Kernels.DirectWeightCache"/>), checked against the weights on every call,
    /// so writing the weights in place is always seen.
    /// </summary>
    public override Tensor Forward(Tensor input) =>
        Functional.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups, relu: false, IsTraining ? null : weightCache);

    /// <summary>
    /// <c>Functional.Relu(Forward(input))</c> as one op (<see cref="Functional.Conv2dRelu(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, int)"/>):
    /// the same values, the ReLU applied inside the convolution's output pass. <see cref="Sequential"/> uses it for a
    /// Conv2d followed by a <see cref="Relu"/>, which is what <see cref="Fusion.FuseConvBatchNorm(Sequential)"/> leaves of a
    /// Conv2d, BatchNorm2d, Relu triple.
    /// </summary>
    public Tensor ForwardRelu(Tensor input) =>
        Functional.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups, relu: true, IsTraining ? null : weightCache);

    /// <summary>
    /// <c>Functional.Relu(Forward(input) + residual)</c> as one op (<see cref="Functional.Conv2dAddRelu"/>): a ResNet block's
    /// second convolution, its shortcut's sum and the ReLU after it. In evaluation mode, where the layer's kept weights run,
    /// each kernel thread adds the residual to its own part of the output while that part is still in its cache.
    /// </summary>
    public Tensor ForwardAddRelu(Tensor input, Tensor residual) =>
        Functional.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups, relu: true, IsTraining ? null : weightCache,
            residual ?? throw new ArgumentNullException(nameof(residual)));

    /// <summary>
    /// Two convolutions in a row with a ReLU between, as a ResNet block or a VGG stage has them: <c>h = ForwardRelu(input)</c>,
    /// then <c>next.ForwardAddRelu(h, residual)</c> with a <paramref name="residual"/>, else <c>next.ForwardRelu(h)</c> with
    /// <paramref name="nextRelu"/>, else <c>next.Forward(h)</c>. Under <see cref="Autograd.Autograd.NoGrad"/> with both layers
    /// in evaluation mode on their kept Winograd weights (3x3 or 5x5, stride 1, channels in multiples of 16), h is never
    /// written as (N, C, H, W) planes: it stays in the 16-channel pixels the Winograd transforms write and read, which saves
    /// the two layout passes between the layers. The values are the same, bit for bit. Elsewhere it is the two calls.
    /// </summary>
    public Tensor ForwardReluThen(Conv2d next, Tensor input, bool nextRelu = false, Tensor? residual = null)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(input);
        if (PairInEvaluation(next, input, nextRelu || residual is not null, residual) is { } y) return y;
        var h = ForwardRelu(input);
        var result = residual is not null ? next.ForwardAddRelu(h, residual) : nextRelu ? next.ForwardRelu(h) : next.Forward(h);
        h.Release();   // nobody else holds h; under no-grad its memory goes back to the pool now
        return result;
    }

    // The pair with h in 16-channel pixels, or null where the two layers do not both run their kept Winograd weights here
    // (the two calls then run, and report any shape error).
    private Tensor? PairInEvaluation(Conv2d next, Tensor input, bool relu, Tensor? residual) =>
        IsTraining || next.IsTraining ? null : Functional.Conv2dPairInference(input, AsInference(), next.AsInference(), relu, residual);

    // This layer as evaluation runs it: its own weights and kept transform.
    private InferenceConvolution AsInference() => new(Weight, Bias, null, Stride, Padding, Dilation, Groups, weightCache);

    // Kept transformed weights for evaluation mode; empty until the first evaluation forward that uses them.
    private readonly Kernels.WinogradWeightCache weightCache = new();

    // Whether an evaluation-mode transform is kept now (tests).
    internal bool KeepsWinogradWeights => weightCache.Holds;

    // Back to training: the kept transform (about 5x the weights) is let go rather than held until the next Eval().
    protected override void OnModeSet(bool training)
    {
        if (training) weightCache.Clear();
    }

    protected override string ExtraDescription()
    {
        var parts = new List<string> { InChannels.ToString(), OutChannels.ToString(), "kernel=" + Pair(KernelSize) };
        if (Stride != (1, 1)) parts.Add("stride=" + Pair(Stride));
        if (Padding != (0, 0)) parts.Add("padding=" + Pair(Padding));
        if (Dilation != (1, 1)) parts.Add("dilation=" + Pair(Dilation));
        if (Groups != 1) parts.Add("groups=" + Groups);
        if (Bias is null) parts.Add("bias=false");
        return string.Join(", ", parts);
    }

    internal static string Pair((int Height, int Width) p) => p.Height == p.Width ? p.Height.ToString() : $"({p.Height}, {p.Width})";
}
