using Backprop.Kernels;
using Backprop.Nn;

namespace Backprop.Bench;

/// <summary>
/// ResNet-20 (BatchNorm folded) at batch 1 (or the profile's batch) op by op for <see cref="LatencyProfile"/>: the stem, each block's
/// convolutions, shortcut and Add+ReLU through the modules (tensor, autograd and pool costs included), the same
/// convolutions as bare <see cref="Convolution.Forward"/> calls on arrays (the kernel alone), pooling and the classifier.
/// </summary>
internal static class ResNetLatencyCases
{
    public static void Add(List<(string Name, Action Body)> cases, Generator generator, TensorMemoryPool pool, int batch = 1)
    {
        var resnet = new ResNet20(generator);
        resnet.Eval();
        var folded = resnet.FusedForInference();
        var children = folded.NamedChildren().ToDictionary(c => c.Key, c => c.Value);
        var stem = (Conv2d)children["conv1"];
        var blocks = (Sequential)children["blocks"];
        var fc = (Linear)children["fc"];
        var x = Tensor.Rand(generator, batch, 3, 32, 32);
        AddConv(cases, "stem", stem, x, relu: true, pool);
        x = stem.ForwardRelu(x);
        for (int b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var parts = block.NamedChildren().ToDictionary(c => c.Key, c => c.Value);
            var conv1 = (Conv2d)parts["conv1"];
            var conv2 = (Conv2d)parts["conv2"];
            var input = x;
            var h = conv1.ForwardRelu(input);
            var y = conv2.Forward(h);
            AddConv(cases, $"block{b} conv1+relu", conv1, input, relu: true, pool);
            AddConv(cases, $"block{b} conv2", conv2, h, relu: false, pool);
            var shortcut = input;
            if (parts.TryGetValue("shortcut", out var sc))
            {
                shortcut = sc.Forward(input);
                cases.Add(($"block{b} shortcut {sc.GetType().Name} in {input.Shape}", () => { using (pool.Scope()) sc.Forward(input).AsSpan(); }));
            }
            var s = shortcut;
            cases.Add(($"block{b} add+relu {y.Shape}", () => { using (pool.Scope()) Functional.AddRelu(y, s).AsSpan(); }));
            cases.Add(($"block{b} whole", () => { using (pool.Scope()) block.Forward(input).AsSpan(); }));
            x = block.Forward(input);
        }
        var last = x;
        cases.Add(($"global avg pool {last.Shape}", () => { using (pool.Scope()) Functional.GlobalAvgPool2d(last).AsSpan(); }));
        var pooled = Functional.GlobalAvgPool2d(last).Flatten(1);
        cases.Add(($"fc {pooled.Shape} -> 10", () => { using (pool.Scope()) fc.Forward(pooled).AsSpan(); }));
        // The stages' convolutions as bare kernels at batch 1, 2 and 4: time(1) - (time(2) - time(1)) is the per-call cost
        // that does not grow with the images (weight packing, tables, buffers).
        foreach (int n in new[] { 1, 2, 4 })
            foreach (var (c, hw, k, st) in new[] { (64, 8, 64, 1), (32, 16, 32, 1), (16, 32, 16, 1), (16, 32, 32, 2) })
            {
                var g = new Conv2dGeometry(n, c, hw, hw, k, 3, 3, st, st, 1, 1, 1, 1, 1);
                float[] xx = new float[g.InputLength], ww = new float[g.WeightLength], yy = new float[g.OutputLength];
                cases.Add(($"kernel batch {n} {c}->{k} 3x3/{st} {hw}x{hw}", () => Convolution.Forward(g, xx, ww, default, yy)));
            }
        var image = Tensor.Rand(generator, batch, 3, 32, 32);
        cases.Add(("resnet20 plain whole", () => { using (pool.Scope()) resnet.Forward(image).AsSpan(); }));
        cases.Add(("resnet20 folded whole", () => { using (pool.Scope()) folded.Forward(image).AsSpan(); }));
    }

    // The module call (what the net pays) and the bare kernel on arrays (what the arithmetic costs).
    private static void AddConv(List<(string Name, Action Body)> cases, string name, Conv2d conv, Tensor input, bool relu, TensorMemoryPool pool)
    {
        var g = new Conv2dGeometry(input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3], conv.OutChannels,
            conv.KernelSize.Height, conv.KernelSize.Width, conv.Stride.Height, conv.Stride.Width, conv.Padding.Height, conv.Padding.Width, 1, 1, 1);
        string shape = $"{g.InChannels}->{g.OutChannels} {g.KernelHeight}x{g.KernelWidth}/{g.StrideHeight} {g.InHeight}x{g.InWidth}";
        cases.Add(($"{name} {shape} module", relu ? () => { using (pool.Scope()) conv.ForwardRelu(input).AsSpan(); }
            : () => { using (pool.Scope()) conv.Forward(input).AsSpan(); }));
        float[] x = input.ToArray(), w = conv.Weight.ToArray(), bias = conv.Bias?.ToArray() ?? [], y = new float[g.OutputLength];
        cases.Add(($"{name} {shape} kernel", () => Convolution.Forward(g, x, w, bias, y, relu)));
    }
}
