using System.Globalization;
using Backprop.Nn;

namespace Backprop.Caffe;

/// <summary>
/// Caffe's Net debug_info lines (Net::ForwardDebugInfo, BackwardDebugInfo and the closing norms of Net::Backward): the
/// mean absolute value of each top and parameter after a layer's forward, of each bottom's and parameter's gradient
/// after its backward. To see a bottom's gradient per layer, a debug pass cuts the graph at every layer's inputs and
/// backpropagates layer by layer, last to first, as Caffe does.
/// </summary>
internal static class NetDebugInfo
{
    /// <summary>A number as Caffe's log prints it (C++ stream default: 6 significant digits, %g style).</summary>
    public static string Format(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        string s = value.ToString("G6", CultureInfo.InvariantCulture);
        int e = s.IndexOf('E');
        if (e < 0) return s;
        // .NET writes 1E-05 / 1E+20; C++ writes 1e-05 / 1e+20.
        return s[..e] + "e" + s[(e + 1)..];
    }

    private static double MeanAbs(ReadOnlySpan<float> values)
    {
        if (values.Length == 0) return 0;
        float sum = 0;   // Caffe's asum, in float
        foreach (float v in values) sum += Math.Abs(v);
        return sum / values.Length;
    }

    private static string ParamName(CaffeLayer layer, int index) =>
        index < layer.Definition.Param.Count && layer.Definition.Param[index].Name.Length > 0
            ? layer.Definition.Param[index].Name : index.ToString(CultureInfo.InvariantCulture);

    /// <summary>One forward pass in debug mode: each layer's inputs cut into leaves, and its outputs.</summary>
    public sealed class Pass(int layerCount)
    {
        private readonly Tensor[][] inputs = new Tensor[layerCount][];
        private readonly Tensor[][] leaves = new Tensor[layerCount][];
        private readonly IReadOnlyList<Tensor>[] outputs = new IReadOnlyList<Tensor>[layerCount];

        /// <summary>Leaves standing for <paramref name="layerInputs"/>, so their gradients can be read after the layer's backward.</summary>
        public Tensor[] Cut(int layer, Tensor[] layerInputs)
        {
            inputs[layer] = layerInputs;
            leaves[layer] = layerInputs.Select(t =>
            {
                var leaf = t.Detach();
                leaf.RequiresGrad = t.RequiresGrad;
                return leaf;
            }).ToArray();
            return leaves[layer];
        }

        /// <summary>Logs the "[Forward]" lines of layer <paramref name="layer"/>.</summary>
        public void Forwarded(CaffeNet net, int layer, IReadOnlyList<Tensor> results)
        {
            outputs[layer] = results;
            var log = net.DebugLog!;
            var l = net.Layers[layer];
            var tops = net.Connections(layer).Tops;
            for (int i = 0; i < results.Count; i++)
                log($"    [Forward] Layer {l.Name}, top blob {tops[i]} data: {Format(MeanAbs(results[i].AsSpan()))}");
            for (int i = 0; i < l.Blobs.Count; i++)
                log($"    [Forward] Layer {l.Name}, param blob {ParamName(l, i)} data: {Format(MeanAbs(l.Blobs[i].AsSpan()))}");
        }

        /// <summary>Backpropagates layer by layer from the losses, logging the "[Backward]" lines.</summary>
        public void Backward(CaffeNet net, Action<string> log)
        {
            var pending = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
            void Add(Tensor blob, Tensor gradient) =>
                pending[blob] = pending.TryGetValue(blob, out var g) ? g + gradient : gradient;
            for (int l = 0; l < outputs.Length; l++)
            {
                var weights = net.LossWeights(l);
                for (int i = 0; i < outputs[l].Count; i++)
                    if (weights[i] != 0) Add(outputs[l][i], Tensor.Full(weights[i], outputs[l][i].Shape.ToArray()));
            }
            for (int l = outputs.Length - 1; l >= 0; l--)
            {
                bool ran = false;
                foreach (var top in outputs[l].Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
                {
                    if (!top.RequiresGrad || !pending.Remove(top, out var g)) continue;
                    using (Autograd.Autograd.NoGrad()) g = g.Detach();
                    top.Backward(g, retainGraph: true);
                    ran = true;
                }
                if (!ran) continue;
                var layer = net.Layers[l];
                var bottomNames = net.Connections(l).Bottoms;
                for (int i = 0; i < leaves[l].Length; i++)
                {
                    var leaf = leaves[l][i];
                    if (!leaf.RequiresGrad) continue;
                    log($"    [Backward] Layer {layer.Name}, bottom blob {bottomNames[i]} diff: {Format(leaf.Grad is null ? 0 : MeanAbs(leaf.Grad.AsSpan()))}");
                    if (leaf.Grad is not null) Add(inputs[l][i], leaf.Grad);
                }
                for (int i = 0; i < layer.Blobs.Count; i++)
                {
                    Parameter p = layer.Blobs[i];
                    if (!p.RequiresGrad) continue;
                    log($"    [Backward] Layer {layer.Name}, param blob {i} diff: {Format(p.Grad is null ? 0 : MeanAbs(p.Grad.AsSpan()))}");
                }
            }
            double asumData = 0, asumDiff = 0, sumsqData = 0, sumsqDiff = 0;
            foreach (var p in net.Parameters)
            {
                foreach (float v in p.AsSpan()) { asumData += Math.Abs(v); sumsqData += (double)v * v; }
                if (p.Grad is null) continue;
                foreach (float v in p.Grad.AsSpan()) { asumDiff += Math.Abs(v); sumsqDiff += (double)v * v; }
            }
            log($"    [Backward] All net params (data, diff): L1 norm = ({Format(asumData)}, {Format(asumDiff)}); " +
                $"L2 norm = ({Format(Math.Sqrt(sumsqData))}, {Format(Math.Sqrt(sumsqDiff))})");
        }
    }
}
