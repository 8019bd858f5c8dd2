using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;
using V1Type = Backprop.Caffe.Proto.V1LayerParameter.Types.LayerType;

namespace Backprop.Caffe;

/// <summary>
/// Caffe's upgrade of old net files on load (upgrade_proto.cpp's UpgradeNetAsNeeded), applied wherever Backprop reads
/// a net or a .caffemodel: V0 layers (<c>layers { layer { type: "conv" } }</c>) become V1 layers, V1 layers
/// (<c>layers { type: CONVOLUTION blobs_lr: 1 weight_decay: 1 }</c>) become <c>layer { type: "Convolution" param { lr_mult
/// decay_mult } }</c>, the data layers' own scale/mean_file/crop_size/mirror move into transform_param, the net-level
/// <c>input</c> with <c>input_shape</c>/<c>input_dim</c> becomes an Input layer, and BatchNorm's three old param specs
/// get lr_mult and decay_mult 0. A current net passes through unchanged.
/// </summary>
public static class NetUpgrade
{
    /// <summary>Reads a net prototxt and upgrades it as needed (Caffe's ReadNetParamsFromTextFileOrDie).</summary>
    /// <param name="log">Hears one line per upgrade step done, and a warning per old setting that had nowhere to go.</param>
    public static NetParameter ReadTextFile(string path, Action<string>? log = null)
    {
        var net = Prototxt.ParseFile<NetParameter>(path);
        UpgradeAsNeeded(net, path, log);
        return net;
    }

    /// <summary>True when <paramref name="net"/> uses any format <see cref="UpgradeAsNeeded"/> rewrites.</summary>
    public static bool NeedsUpgrade(NetParameter net)
    {
        ArgumentNullException.ThrowIfNull(net);
        return net.Layers.Count > 0 || net.Input.Count > 0 || net.InputShape.Count > 0 || net.InputDim.Count > 0
            || net.Layer.Any(l => l.Type == "BatchNorm" && l.Param.Count == 3);
    }

    /// <summary><paramref name="net"/> itself when it needs no upgrade, else an upgraded copy (the argument is left as it was).</summary>
    public static NetParameter Upgraded(NetParameter net, string source, Action<string>? log = null)
    {
        if (!NeedsUpgrade(net)) return net;
        var copy = net.Clone();
        UpgradeAsNeeded(copy, source, log);
        return copy;
    }

    /// <summary>Upgrades <paramref name="net"/> in place; returns whether anything changed.</summary>
    /// <param name="source">The file (or "net_param"...), named in messages.</param>
    /// <exception cref="CaffeNetException">The net cannot be upgraded: it mixes <c>layer</c> and <c>layers</c>, names an unknown
    /// V0 type, misuses a V0 padding layer, or gives input dimensions that do not match its inputs.</exception>
    public static bool UpgradeAsNeeded(NetParameter net, string source, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(source);
        if (!NeedsUpgrade(net)) return false;
        void Log(string line) => log?.Invoke(line);
        void Warn(string line) => log?.Invoke("Warning: " + line);

        if (net.Layers.Any(l => l.Layer is not null))
        {
            NetUpgradeV0.Upgrade(net, source, Warn);
            Log($"Upgraded {source} from Caffe's V0 layer format.");
        }
        if (UpgradeDataTransformation(net)) Log($"Moved the data layers' scale/mean_file/crop_size/mirror of {source} into transform_param.");
        if (net.Layers.Count > 0)
        {
            if (net.Layer.Count > 0)
                throw new CaffeNetException($"{source}: the net has both 'layer' and 'layers' fields. The current format is layer {{ type: \"Convolution\" ... }}; "
                    + "the V1 format is layers { type: CONVOLUTION ... }; write every layer in one of them.");
            foreach (var v1 in net.Layers) net.Layer.Add(UpgradeV1Layer(v1, source, Warn));
            net.Layers.Clear();
            Log($"Upgraded {source} from Caffe's V1 'layers' format.");
        }
        if (net.Input.Count > 0 || net.InputShape.Count > 0 || net.InputDim.Count > 0)
        {
            UpgradeInput(net, source);
            Log($"Upgraded {source}'s net-level inputs to an Input layer.");
        }
        foreach (var layer in net.Layer.Where(l => l.Type == "BatchNorm" && l.Param.Count == 3))
            foreach (var spec in layer.Param) (spec.LrMult, spec.DecayMult) = (0, 0);   // its statistics are not learned
        return true;
    }

    // Caffe's CONVERT_LAYER_TRANSFORM_PARAM: the Data, ImageData and WindowData layers' own copies move into transform_param.
    private static bool UpgradeDataTransformation(NetParameter net)
    {
        bool changed = false;
        foreach (var layer in net.Layers)
        {
            switch (layer.Type)
            {
                case V1Type.Data when layer.DataParam is { } p:
                    changed |= Move(layer, p.HasScale, p.Scale, p.HasMeanFile, p.MeanFile, p.HasCropSize, p.CropSize, p.HasMirror, p.Mirror);
                    p.ClearScale(); p.ClearMeanFile(); p.ClearCropSize(); p.ClearMirror();
                    break;
                case V1Type.ImageData when layer.ImageDataParam is { } p:
                    changed |= Move(layer, p.HasScale, p.Scale, p.HasMeanFile, p.MeanFile, p.HasCropSize, p.CropSize, p.HasMirror, p.Mirror);
                    p.ClearScale(); p.ClearMeanFile(); p.ClearCropSize(); p.ClearMirror();
                    break;
                case V1Type.WindowData when layer.WindowDataParam is { } p:
                    changed |= Move(layer, p.HasScale, p.Scale, p.HasMeanFile, p.MeanFile, p.HasCropSize, p.CropSize, p.HasMirror, p.Mirror);
                    p.ClearScale(); p.ClearMeanFile(); p.ClearCropSize(); p.ClearMirror();
                    break;
            }
        }
        return changed;
    }

    private static bool Move(V1LayerParameter layer, bool hasScale, float scale, bool hasMean, string mean, bool hasCrop, uint crop, bool hasMirror, bool mirror)
    {
        if (!(hasScale || hasMean || hasCrop || hasMirror)) return false;
        var t = layer.TransformParam ??= new TransformationParameter();
        if (hasScale) t.Scale = scale;
        if (hasMean) t.MeanFile = mean;
        if (hasCrop) t.CropSize = crop;
        if (hasMirror) t.Mirror = mirror;
        return true;
    }

    private static LayerParameter UpgradeV1Layer(V1LayerParameter v1, string source, Action<string> warn)
    {
        var layer = new LayerParameter();
        layer.Bottom.Add(v1.Bottom);
        layer.Top.Add(v1.Top);
        if (v1.HasName) layer.Name = v1.Name;
        layer.Include.Add(v1.Include.Select(r => r.Clone()));
        layer.Exclude.Add(v1.Exclude.Select(r => r.Clone()));
        if (v1.HasType) layer.Type = LayerType(v1.Type, v1.Name, source);
        layer.Blobs.Add(v1.Blobs.Select(b => b.Clone()));
        // param names, share modes, blobs_lr and weight_decay fill the param specs by blob index.
        ParamSpec Spec(int i)
        {
            while (layer.Param.Count <= i) layer.Param.Add(new ParamSpec());
            return layer.Param[i];
        }
        for (int i = 0; i < v1.Param.Count; i++) Spec(i).Name = v1.Param[i];
        for (int i = 0; i < v1.BlobShareMode.Count; i++) Spec(i).ShareMode = (ParamSpec.Types.DimCheckMode)(int)v1.BlobShareMode[i];
        for (int i = 0; i < v1.BlobsLr.Count; i++) Spec(i).LrMult = v1.BlobsLr[i];
        for (int i = 0; i < v1.WeightDecay.Count; i++) Spec(i).DecayMult = v1.WeightDecay[i];
        layer.LossWeight.Add(v1.LossWeight);

        layer.AccuracyParam = v1.AccuracyParam?.Clone();
        layer.ArgmaxParam = v1.ArgmaxParam?.Clone();
        layer.ConcatParam = v1.ConcatParam?.Clone();
        layer.ContrastiveLossParam = v1.ContrastiveLossParam?.Clone();
        layer.ConvolutionParam = v1.ConvolutionParam?.Clone();
        layer.DataParam = v1.DataParam?.Clone();
        layer.DropoutParam = v1.DropoutParam?.Clone();
        layer.DummyDataParam = v1.DummyDataParam?.Clone();
        layer.EltwiseParam = v1.EltwiseParam?.Clone();
        layer.ExpParam = v1.ExpParam?.Clone();
        layer.Hdf5DataParam = v1.Hdf5DataParam?.Clone();
        layer.Hdf5OutputParam = v1.Hdf5OutputParam?.Clone();
        layer.HingeLossParam = v1.HingeLossParam?.Clone();
        layer.ImageDataParam = v1.ImageDataParam?.Clone();
        layer.InfogainLossParam = v1.InfogainLossParam?.Clone();
        layer.InnerProductParam = v1.InnerProductParam?.Clone();
        layer.LrnParam = v1.LrnParam?.Clone();
        layer.MemoryDataParam = v1.MemoryDataParam?.Clone();
        layer.MvnParam = v1.MvnParam?.Clone();
        layer.PoolingParam = v1.PoolingParam?.Clone();
        layer.PowerParam = v1.PowerParam?.Clone();
        layer.ReluParam = v1.ReluParam?.Clone();
        layer.SigmoidParam = v1.SigmoidParam?.Clone();
        layer.SoftmaxParam = v1.SoftmaxParam?.Clone();
        layer.SliceParam = v1.SliceParam?.Clone();
        layer.TanhParam = v1.TanhParam?.Clone();
        layer.ThresholdParam = v1.ThresholdParam?.Clone();
        layer.WindowDataParam = v1.WindowDataParam?.Clone();
        layer.TransformParam = v1.TransformParam?.Clone();
        layer.LossParam = v1.LossParam?.Clone();
        if (v1.Layer is not null) warn($"{source}: layer '{v1.Name}' holds both V1 settings and a V0 'layer' block; the V0 block is ignored.");
        return layer;
    }

    /// <summary>The V1 enum type as the current type name (Caffe's UpgradeV1LayerType).</summary>
    internal static string LayerType(V1Type type, string name, string source) => type switch
    {
        V1Type.None => "",
        V1Type.Absval => "AbsVal",
        V1Type.Accuracy => "Accuracy",
        V1Type.Argmax => "ArgMax",
        V1Type.Bnll => "BNLL",
        V1Type.Concat => "Concat",
        V1Type.ContrastiveLoss => "ContrastiveLoss",
        V1Type.Convolution => "Convolution",
        V1Type.Deconvolution => "Deconvolution",
        V1Type.Data => "Data",
        V1Type.Dropout => "Dropout",
        V1Type.DummyData => "DummyData",
        V1Type.EuclideanLoss => "EuclideanLoss",
        V1Type.Eltwise => "Eltwise",
        V1Type.Exp => "Exp",
        V1Type.Flatten => "Flatten",
        V1Type.Hdf5Data => "HDF5Data",
        V1Type.Hdf5Output => "HDF5Output",
        V1Type.HingeLoss => "HingeLoss",
        V1Type.Im2Col => "Im2col",
        V1Type.ImageData => "ImageData",
        V1Type.InfogainLoss => "InfogainLoss",
        V1Type.InnerProduct => "InnerProduct",
        V1Type.Lrn => "LRN",
        V1Type.MemoryData => "MemoryData",
        V1Type.MultinomialLogisticLoss => "MultinomialLogisticLoss",
        V1Type.Mvn => "MVN",
        V1Type.Pooling => "Pooling",
        V1Type.Power => "Power",
        V1Type.Relu => "ReLU",
        V1Type.Sigmoid => "Sigmoid",
        V1Type.SigmoidCrossEntropyLoss => "SigmoidCrossEntropyLoss",
        V1Type.Silence => "Silence",
        V1Type.Softmax => "Softmax",
        V1Type.SoftmaxLoss => "SoftmaxWithLoss",
        V1Type.Split => "Split",
        V1Type.Slice => "Slice",
        V1Type.Tanh => "TanH",
        V1Type.WindowData => "WindowData",
        V1Type.Threshold => "Threshold",
        _ => throw new CaffeNetException($"{source}: V1 layer '{name}' has unknown type number {(int)type}."),
    };

    // Caffe's UpgradeNetInput: the inputs become the first layer, an Input layer named "input". Inputs without any
    // shape are what old .caffemodel files carry; they are simply dropped.
    private static void UpgradeInput(NetParameter net, string source)
    {
        bool hasShape = net.InputShape.Count > 0, hasDim = net.InputDim.Count > 0;
        if (net.Input.Count > 0 && (hasShape || hasDim))   // shapes without inputs name nothing: Caffe drops them too
        {
            if (hasShape && net.InputShape.Count != net.Input.Count)
                throw new CaffeNetException($"{source}: {net.Input.Count} inputs but {net.InputShape.Count} input_shape blocks; give one per input.");
            if (!hasShape && net.InputDim.Count != 4 * net.Input.Count)
                throw new CaffeNetException($"{source}: input_dim needs 4 values per input, got {net.InputDim.Count} for {net.Input.Count}.");
            var layer = new LayerParameter { Name = "input", Type = "Input", InputParam = new InputParameter() };
            for (int i = 0; i < net.Input.Count; i++)
            {
                layer.Top.Add(net.Input[i]);
                if (hasShape) layer.InputParam.Shape.Add(net.InputShape[i].Clone());
                else
                {
                    var shape = new BlobShape();
                    for (int d = 0; d < 4; d++) shape.Dim.Add(net.InputDim[4 * i + d]);
                    layer.InputParam.Shape.Add(shape);
                }
            }
            net.Layer.Insert(0, layer);
        }
        net.Input.Clear();
        net.InputShape.Clear();
        net.InputDim.Clear();
    }
}
