using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;
using Backprop.Nn;

namespace Backprop.Caffe;

/// <summary>One output blob of a forward pass, with its loss weight (0 for non-losses such as accuracy).</summary>
public sealed record NetOutput(string Name, Tensor Value, float LossWeight);

/// <summary>What a forward pass produced: the weighted total loss (null when the net has none), the outputs and every blob.</summary>
public sealed record NetResult(Tensor? Loss, IReadOnlyList<NetOutput> Outputs, IReadOnlyDictionary<string, Tensor> Blobs);

/// <summary>
/// A Caffe net for one state (phase, level, stages), built from a NetParameter with every shape inferred
/// before any data flows, so a broken net fails at build time with layer names in the message.
/// Layers run in prototxt order; blobs are named, in-place layers rebind a name, and backward is autograd's.
/// </summary>
public sealed class CaffeNet
{
    private readonly List<CaffeLayer> layers = [];
    private readonly List<string[]> bottoms = [];
    private readonly List<string[]> tops = [];
    private readonly List<float[]> lossWeights = [];
    private readonly List<bool[]> propagateDown = [];
    private readonly Dictionary<string, Shape> blobShapes = [];
    private readonly List<string> outputs = [];
    // fusedRelu[l]: layer l (an IFusesRelu) runs the in-place ReLU at l + 1 itself, which then passes its bottom through.
    private bool[] fusedRelu = [];

    private CaffeNet(string name, NetState state)
    {
        Name = name;
        State = state;
    }

    /// <summary>The name Caffe gives a loss layer's top when the prototxt names none; no other layer can use it.</summary>
    public const string AutomaticTop = "(automatic)";

    /// <summary>
    /// Caffe's debug_info: when true (and <see cref="DebugLog"/> is set), forward logs each top's and parameter's mean
    /// absolute value and <see cref="Backward"/> each bottom's and parameter's mean absolute gradient, layer by layer.
    /// Starts as the NetParameter's debug_info; the solver sets it as Caffe's does.
    /// </summary>
    public bool DebugInfo { get; set; }

    /// <summary>Where the debug_info lines go.</summary>
    public Action<string>? DebugLog { get; set; }

    private NetDebugInfo.Pass? debugPass;

    /// <summary>The net's <c>name</c> from its prototxt.</summary>
    public string Name { get; }
    /// <summary>The phase, level and stages this net was built for; they decided which layers were included.</summary>
    public NetState State { get; }
    /// <summary>The net's layers in execution order, after the phase/stage rules dropped the excluded ones.</summary>
    public IReadOnlyList<CaffeLayer> Layers => layers;
    /// <summary>The shape of every blob (top) by name, as inferred when the net was built, before any data flowed.</summary>
    public IReadOnlyDictionary<string, Shape> BlobShapes => blobShapes;

    /// <summary>Blobs no later layer consumes: Caffe's net outputs (losses, accuracies).</summary>
    public IReadOnlyList<string> OutputNames => outputs;

    /// <summary>The bottom and top blob names of layer <paramref name="index"/>.</summary>
    public (IReadOnlyList<string> Bottoms, IReadOnlyList<string> Tops) Connections(int index) => (bottoms[index], tops[index]);

    private IReadOnlyList<Parameter>? parameters;

    /// <summary>Every parameter blob once (shared blobs once), in layer order: Caffe's learnable-params order.</summary>
    public IReadOnlyList<Parameter> Parameters =>
        parameters ??= layers.SelectMany(l => l.Blobs).Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().ToList();

    /// <summary>Parameters with names like <c>conv1.0</c> (layer name, blob index), each once.</summary>
    public IEnumerable<KeyValuePair<string, Parameter>> NamedParameters()
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var layer in layers)
            for (int i = 0; i < layer.Blobs.Count; i++)
                if (seen.Add(layer.Blobs[i])) yield return new($"{layer.Name}.{i}", layer.Blobs[i]);
    }

    /// <summary>The data layer that feeds this net, if any (for batch size and epochs).</summary>
    public IDataSourceLayer? DataLayer => layers.OfType<IDataSourceLayer>().FirstOrDefault();

    /// <summary>Builds the net for <paramref name="state"/>; fillers draw from <paramref name="filler"/>.</summary>
    public static CaffeNet Build(NetParameter definition, NetState state, Generator filler, NetContext context)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Input.Count > 0 && definition.InputShape.Count == 0 && definition.InputDim.Count == 0)
            throw new CaffeNetException($"Net '{definition.Name}': input '{definition.Input[0]}' has no shape; give input_shape or input_dim (or use an Input layer).");
        // V0/V1 layers, old transformation fields and net-level inputs, as Caffe upgrades them on load.
        definition = NetUpgrade.Upgraded(definition, $"Net '{definition.Name}'");
        var net = new CaffeNet(definition.Name, state) { DebugInfo = definition.DebugInfo };
        var layerDefs = definition.Layer.Where(l => NetStateFilter.Includes(l, state)).ToList();
        var namesWithBlobs = new HashSet<string>();
        var sharedParams = new Dictionary<string, Parameter>();
        var available = new List<string>();
        foreach (var written in layerDefs)
        {
            var def = written;
            var layer = LayerFactory.Create(def);
            if (layer.IsLoss && def.Top.Count < layer.Tops.Min)
            {
                // Caffe's AutoTopBlobs: a loss layer without a top still gets one, and its loss still counts.
                def = def.Clone();
                while (def.Top.Count < layer.Tops.Min) def.Top.Add(AutomaticTop);
                layer = LayerFactory.Create(def);
            }
            string where = $"Layer '{def.Name}' (type {def.Type})";
            CheckCount(where, "bottom", def.Bottom.Count, layer.Bottoms);
            CheckCount(where, "top", def.Top.Count, layer.Tops);
            var inShapes = new List<Shape>();
            foreach (var b in def.Bottom)
            {
                if (!net.blobShapes.TryGetValue(b, out var s))
                    throw new CaffeNetException($"{where} has unknown bottom blob '{b}'; no earlier layer in the {state.Phase} net produces it.");
                inShapes.Add(s);
            }
            IReadOnlyList<Shape> outShapes;
            try { outShapes = layer.Setup(inShapes, context, filler); }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                throw new CaffeNetException($"{where}: {e.Message} (bottoms: {string.Join(", ", inShapes)})", e);
            }
            catch (OutOfMemoryException e)
            {
                throw new CaffeNetException($"{where}: out of memory while creating its blobs (bottoms: {string.Join(", ", inShapes)}); check num_output and the input sizes.", e);
            }
            // Caffe allows repeated layer names (mnist_autoencoder has two 'loss' layers), but a .caffemodel keeps
            // weights by layer name, so two layers with blobs may not share one.
            if (layer.Blobs.Count > 0 && !namesWithBlobs.Add(def.Name))
                throw new CaffeNetException($"Two layers with learnable blobs are named '{def.Name}'; weights are saved and loaded by layer name, so these names must be unique.");
            // Forward allocates the tops (backward their gradients): refuse now what cannot fit then.
            var newTops = Enumerable.Range(0, def.Top.Count).Where(i => !def.Bottom.Contains(def.Top[i])).Select(i => outShapes[i]).ToList();
            LayerMemory.EnsureFits(where, $"its top blobs {string.Join(", ", newTops)}", newTops, context);
            for (int i = 0; i < def.Top.Count; i++)
            {
                if (def.Bottom.Contains(def.Top[i]) && def.Bottom[i < def.Bottom.Count ? i : 0] != def.Top[i])
                    throw new CaffeNetException($"{where}: in-place top '{def.Top[i]}' must be the bottom at the same position.");
                if (def.Top[i] != AutomaticTop || written.Top.Contains(AutomaticTop)) net.blobShapes[def.Top[i]] = outShapes[i];
            }
            if (def.LossWeight.Count > 0 && def.LossWeight.Count != def.Top.Count)
                throw new CaffeNetException($"{where} has {def.LossWeight.Count} loss_weight values for {def.Top.Count} tops.");
            var weights = new float[def.Top.Count];
            for (int i = 0; i < weights.Length; i++)
                weights[i] = def.LossWeight.Count > 0 ? def.LossWeight[i] : layer.IsLoss && i == 0 ? 1f : 0f;
            if (def.PropagateDown.Count > 0 && def.PropagateDown.Count != def.Bottom.Count)
                throw new CaffeNetException($"{where} has {def.PropagateDown.Count} propagate_down values for {def.Bottom.Count} bottoms.");
            ApplyParamSpecs(layer, def, where, sharedParams);

            foreach (var b in def.Bottom) available.Remove(b);
            available.AddRange(written.Top);
            net.layers.Add(layer);
            net.bottoms.Add([.. def.Bottom]);
            net.tops.Add([.. def.Top]);
            net.lossWeights.Add(weights);
            net.propagateDown.Add(def.Bottom.Select((_, i) => def.PropagateDown.Count == 0 || def.PropagateDown[i]).ToArray());
        }
        net.outputs.AddRange(available.Distinct());
        net.fusedRelu = net.ReluFusions();
        return net;
    }

    /// <summary>
    /// Which layers run the ReLU that follows them: an <see cref="IFusesRelu"/> layer with one top, not a loss, followed at
    /// once by a plain ReLU in place on that top (top = bottom), which propagates down and weighs no loss. In place, no
    /// layer can see the top before the ReLU, so fusing changes no blob any layer reads, and the fused ops keep the bits.
    /// </summary>
    private bool[] ReluFusions()
    {
        var fused = new bool[layers.Count];
        for (int l = 0; l + 1 < layers.Count; l++)
        {
            if (layers[l] is not IFusesRelu f || !f.CanFuseRelu || layers[l + 1] is not ReluLayer { IsPlain: true }) continue;
            if (tops[l].Length != 1 || bottoms[l + 1].Length != 1 || tops[l + 1].Length != 1) continue;
            string t = tops[l][0];
            if (bottoms[l + 1][0] != t || tops[l + 1][0] != t || Array.IndexOf(bottoms[l], t) >= 0) continue;
            if (lossWeights[l][0] != 0 || lossWeights[l + 1][0] != 0 || !propagateDown[l + 1][0]) continue;
            fused[l] = true;
            l++;   // the ReLU itself fuses with nothing
        }
        return fused;
    }

    private static void CheckCount(string where, string what, int count, (int Min, int Max) allowed)
    {
        if (count < allowed.Min || count > allowed.Max)
        {
            string expected = allowed.Min == allowed.Max ? $"{allowed.Min}" : allowed.Max == int.MaxValue ? $"at least {allowed.Min}" : $"{allowed.Min} to {allowed.Max}";
            throw new CaffeNetException($"{where} has {count} {what} blobs; it takes {expected}.");
        }
    }

    // lr_mult/decay_mult per blob; lr_mult 0 freezes the blob; a named param is shared between layers.
    private static void ApplyParamSpecs(CaffeLayer layer, LayerParameter def, string where, Dictionary<string, Parameter> shared)
    {
        if (def.Param.Count > layer.Blobs.Count)
            throw new CaffeNetException($"{where} has {def.Param.Count} param specs but only {layer.Blobs.Count} blobs.");
        for (int i = 0; i < def.Param.Count; i++)
        {
            var spec = def.Param[i];
            var blob = layer.Blobs[i];
            if (spec.Name.Length > 0)
            {
                if (shared.TryGetValue(spec.Name, out var owner))
                {
                    if (owner.Shape != blob.Shape)
                        throw new CaffeNetException($"{where}: shared param '{spec.Name}' has shape {owner.Shape} elsewhere but {blob.Shape} here.");
                    layer.ReplaceBlob(i, owner);
                    continue;
                }
                shared[spec.Name] = blob;
            }
            blob.LearningRateMultiplier = spec.LrMult;
            blob.DecayMultiplier = spec.DecayMult;
            if (spec.LrMult == 0) blob.RequiresGrad = false;
        }
    }

    /// <summary>
    /// Runs every layer. <paramref name="onLayer"/>, when given, hears each layer's index, forward time and
    /// the autograd node sequence number reached after it (to attribute backward time to layers).
    /// </summary>
    public NetResult Forward(NetContext context, Action<int, TimeSpan, long>? onLayer = null)
    {
        var blobs = new Dictionary<string, Tensor>();
        Tensor? loss = null;
        bool debug = DebugInfo && DebugLog is not null;
        debugPass = debug ? new NetDebugInfo.Pass(layers.Count) : null;
        for (int l = 0; l < layers.Count; l++)
        {
            var layer = layers[l];
            var inputs = new Tensor[bottoms[l].Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                var t = blobs[bottoms[l][i]];
                inputs[i] = propagateDown[l][i] ? t : t.Detach();
            }
            if (debug) inputs = debugPass!.Cut(l, inputs);
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            IReadOnlyList<Tensor> results;
            try
            {
                // A fused ReLU (see ReluFusions) passes its bottom through; the layer before applied it. Not under debug_info,
                // which logs each layer's own top.
                if (!debug && fusedRelu.Length == layers.Count && l > 0 && fusedRelu[l - 1]) results = inputs;
                else if (!debug && fusedRelu.Length == layers.Count && fusedRelu[l]) results = ((IFusesRelu)layer).ForwardRelu(inputs, context, l);
                else results = layer.Forward(inputs, context, l);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                throw new CaffeNetException($"Layer '{layer.Name}' (type {layer.Type}) failed at iteration {context.Iteration}: {e.Message}", e);
            }
            onLayer?.Invoke(l, System.Diagnostics.Stopwatch.GetElapsedTime(start), Backprop.Autograd.Node.LatestSequenceNumber);
            if (debug) debugPass!.Forwarded(this, l, results);
            for (int i = 0; i < results.Count; i++)
            {
                blobs[tops[l][i]] = results[i];
                float w = lossWeights[l][i];
                if (w != 0)
                {
                    var term = (w == 1 ? results[i] : results[i] * w).Sum();
                    loss = loss is null ? term : loss + term;
                }
            }
        }
        var outs = outputs.Select(name => new NetOutput(name, blobs[name], LossWeightOf(name))).ToList();
        return new NetResult(loss, outs, blobs);
    }

    /// <summary>
    /// Backpropagates the loss of <paramref name="result"/> into the parameters. With <see cref="DebugInfo"/> on (for the
    /// pass that produced the result) it goes layer by layer, as Caffe's Backward, logging each layer's gradients.
    /// </summary>
    public void Backward(NetResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Loss is null) throw new CaffeNetException($"Net '{Name}' has no loss to backpropagate (no loss layer or loss_weight).");
        if (debugPass is { } pass && DebugLog is { } log) pass.Backward(this, log);
        else result.Loss.Backward();
        debugPass = null;
    }

    internal float[] LossWeights(int layer) => lossWeights[layer];
    internal bool[] PropagatesDown(int layer) => propagateDown[layer];

    private float LossWeightOf(string blob)
    {
        for (int l = layers.Count - 1; l >= 0; l--)
        {
            int i = Array.IndexOf(tops[l], blob);
            if (i >= 0) return lossWeights[l][i];
        }
        return 0;
    }

    /// <summary>One layer per name: names may repeat only among layers without blobs, and a layer with blobs wins its name
    /// (weights are shared, saved and loaded by it).</summary>
    internal Dictionary<string, CaffeLayer> LayersByName()
    {
        var byName = new Dictionary<string, CaffeLayer>();
        foreach (var layer in layers.OrderByDescending(l => l.Blobs.Count > 0)) byName.TryAdd(layer.Name, layer);
        return byName;
    }

    /// <summary>Makes layers with the same name as in <paramref name="source"/> use its blobs (Caffe shares the train net's weights with test nets).</summary>
    public void ShareWeightsWith(CaffeNet source)
    {
        var byName = source.LayersByName();
        foreach (var layer in layers)
        {
            if (!byName.TryGetValue(layer.Name, out var other) || other.Blobs.Count != layer.Blobs.Count) continue;
            for (int i = 0; i < layer.Blobs.Count; i++)
            {
                if (other.Blobs[i].Shape != layer.Blobs[i].Shape)
                    throw new CaffeNetException($"Layer '{layer.Name}': blob {i} has shape {layer.Blobs[i].Shape} in the {State.Phase} net but {other.Blobs[i].Shape} in the {source.State.Phase} net.");
                layer.ReplaceBlob(i, other.Blobs[i]);
            }
        }
        parameters = null;   // the blobs changed
    }

    /// <summary>
    /// Copies weights from a trained net (a .caffemodel's NetParameter) into layers of the same name, as Caffe's
    /// CopyTrainedLayersFrom: source layers absent from the net are ignored (logged), net layers absent from the file
    /// keep their values (a warning names each learnable one); a file with no layers, a blob count or shape mismatch,
    /// or a NaN/infinite weight (unless <see cref="WeightLoading.AllowNonFinite"/>) is an error naming
    /// <paramref name="source"/>, and then no weight changes. Returns how many layers with blobs were copied.
    /// </summary>
    public int CopyTrainedLayersFrom(NetParameter trained, string source, WeightLoading? options = null)
    {
        ArgumentNullException.ThrowIfNull(trained);
        return TrainedWeights.Copy(this, trained, source, options ?? new WeightLoading());
    }

    /// <summary>The net definition with each layer's blobs filled in: what a .caffemodel holds.</summary>
    public NetParameter ToProto(NetParameter definition)
    {
        var byName = LayersByName();
        var result = new NetParameter { Name = definition.Name };
        foreach (var def in NetUpgrade.Upgraded(definition, $"Net '{definition.Name}'").Layer)
        {
            var copy = def.Clone();
            copy.Blobs.Clear();
            // By name and type: a blob-less layer may share its name with the layer that holds the blobs.
            if (byName.TryGetValue(def.Name, out var layer) && layer.Type == def.Type)
                foreach (var blob in layer.Blobs) copy.Blobs.Add(BlobProtos.From(blob));
            result.Layer.Add(copy);
        }
        return result;
    }
}
