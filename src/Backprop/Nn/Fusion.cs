namespace Backprop.Nn;

/// <summary>
/// Inference-ready copies of trained networks with each <see cref="BatchNorm2d"/> folded into the <see cref="Conv2d"/>
/// before it (PyTorch's <c>torch.nn.utils.fusion.fuse_conv_bn_eval</c> and, for a whole <see cref="Sequential"/>,
/// <c>torch.ao.quantization.fuse_modules</c>). In evaluation BatchNorm is an affine map per channel, so
/// conv then BatchNorm is one convolution with
/// W'[k] = W[k] · s[k] and b'[k] = (b[k] − mean[k]) · s[k] + beta[k], where s[k] = gamma[k] / √(var[k] + eps)
/// (gamma 1 and beta 0 without affine, b 0 without a conv bias). The folded net computes the same function with one
/// layer less per pair; its outputs differ from the original's only by float rounding (the products are reordered),
/// a few units in the last place of the terms summed. The original modules are never changed.
/// </summary>
/// <remarks>
/// Folding uses the running statistics as they are now: it is a snapshot for inference. Train the original, then fold
/// again. A hand-written module fuses its own pairs with <see cref="FuseConvBatchNorm(Conv2d, BatchNorm2d)"/> and runs
/// <see cref="Conv2d.ForwardRelu"/> where a ReLU followed the BatchNorm.
/// </remarks>
public static class Fusion
{
    /// <summary>
    /// A new <see cref="Conv2d"/> (with a bias, in evaluation mode) equal to <c>bn.Forward(conv.Forward(x))</c> with
    /// <paramref name="bn"/> in evaluation mode. Neither argument changes.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="bn"/> is in training mode (its batch statistics cannot be folded).</exception>
    /// <exception cref="ArgumentException">The BatchNorm's channel count differs from the convolution's output channels.</exception>
    public static Conv2d FuseConvBatchNorm(Conv2d conv, BatchNorm2d bn)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(bn);
        return Fold(conv, bn, conv.ToString(), bn.ToString());
    }

    /// <summary>
    /// A new <see cref="Sequential"/> in which every <see cref="Conv2d"/> directly followed by a <see cref="BatchNorm2d"/>
    /// is replaced by their folded convolution (named as the convolution was; the BatchNorm's name is dropped), and
    /// nested Sequentials are fused the same way. A Conv2d, BatchNorm2d, Relu triple becomes a Conv2d and a Relu, which
    /// <see cref="Sequential"/> runs as one op (<see cref="Conv2d.ForwardRelu"/>). Every other child is the original's
    /// own instance, shared, not copied (a hand-written block inside is not looked into). <paramref name="net"/> is
    /// not changed.
    /// </summary>
    /// <exception cref="InvalidOperationException">A BatchNorm2d that follows a Conv2d is in training mode; the message names it.</exception>
    /// <exception cref="ArgumentException">A pair's channel counts differ; the message names both modules.</exception>
    public static Sequential FuseConvBatchNorm(Sequential net)
    {
        ArgumentNullException.ThrowIfNull(net);
        return FuseSequential(net, "");
    }

    private static Sequential FuseSequential(Sequential net, string prefix)
    {
        var fused = new Sequential();
        var children = net.NamedChildren();
        for (int i = 0; i < children.Count; i++)
        {
            var (name, child) = children[i];
            string path = prefix + name;
            if (child is Conv2d conv && i + 1 < children.Count && children[i + 1].Value is BatchNorm2d bn)
            {
                string bnPath = prefix + children[i + 1].Key;
                fused.Add(Fold(conv, bn, $"'{path}' ({conv})", $"'{bnPath}' ({bn})"), name);
                i++;   // the BatchNorm is inside the new convolution
            }
            else if (child is Sequential inner) fused.Add(FuseSequential(inner, path + "."), name);
            else fused.Add(child, name);
        }
        fused.SetOwnTraining(net.IsTraining);
        return fused;
    }

    private static Conv2d Fold(Conv2d conv, BatchNorm2d bn, string convName, string bnName)
    {
        if (bn.IsTraining)
            throw new InvalidOperationException(
                $"Cannot fold BatchNorm2d {bnName} into {convName}: it is in training mode, where it normalizes by each batch's own " +
                "statistics. Call Eval() on the network first; folding uses the running statistics.");
        if (bn.NumFeatures != conv.OutChannels)
            throw new ArgumentException(
                $"Cannot fold BatchNorm2d {bnName} into {convName}: the BatchNorm has {bn.NumFeatures} channels but the convolution " +
                $"has {conv.OutChannels} output channels.");

        var fused = new Conv2d(conv.InChannels, conv.OutChannels, conv.KernelSize, conv.Stride, conv.Padding, conv.Dilation, conv.Groups,
            bias: true, generator: null, initialize: false);
        ReadOnlySpan<float> gamma = bn.Weight is null ? default : bn.Weight.Data, beta = bn.Bias is null ? default : bn.Bias.Data;
        var scale = new double[conv.OutChannels];
        Kernels.BatchNormFold.Scales(gamma, bn.RunningVar.Data, bn.Eps, scale);
        Kernels.BatchNormFold.Weights(conv.Weight.Data, scale, fused.Weight.AsSpan());
        Kernels.BatchNormFold.Bias(conv.Bias is null ? default : conv.Bias.Data, bn.RunningMean.Data, beta, scale, fused.Bias!.AsSpan());
        fused.Weight.RequiresGrad = conv.Weight.RequiresGrad;
        fused.Eval();
        return fused;
    }
}
