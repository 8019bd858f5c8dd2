using Backprop.Caffe.Proto;
using V1Type = Backprop.Caffe.Proto.V1LayerParameter.Types.LayerType;

namespace Backprop.Caffe;

/// <summary>
/// Caffe's oldest net format (V0, before 2014): each <c>layers { layer { name type ... } bottom top }</c> holds a
/// V0LayerParameter whose settings are flat fields (num_output, kernelsize, pad, ...) and whose type is a lower-case
/// string ("conv", "innerproduct"). Separate "padding" layers are folded into the conv or pool layer they feed. The
/// result is the V1 format (<see cref="V1LayerParameter"/> with its enum type and per-layer parameter messages),
/// which <see cref="NetUpgrade"/> then takes to the current one, as Caffe's UpgradeV0Net does.
/// </summary>
internal static class NetUpgradeV0
{
    /// <summary>Rewrites the V0 layers of <paramref name="net"/> as V1 layers, in place.</summary>
    /// <param name="warn">Hears each V0 setting the layer's type has no place for (Caffe logs them and goes on).</param>
    public static void Upgrade(NetParameter net, string source, Action<string> warn)
    {
        var unpadded = FoldPaddingLayers(net, source);
        net.Layers.Clear();
        foreach (var layer in unpadded) net.Layers.Add(UpgradeLayer(layer, source, warn));
    }

    // A padding layer's pad moves to the conv/pool layer that reads its output, which then reads the padding's input.
    private static List<V1LayerParameter> FoldPaddingLayers(NetParameter net, string source)
    {
        var lastWriter = new Dictionary<string, int>(StringComparer.Ordinal);   // blob -> index of the layer that wrote it last (-1: a net input)
        foreach (var input in net.Input) lastWriter[input] = -1;
        var kept = new List<V1LayerParameter>();
        for (int i = 0; i < net.Layers.Count; i++)
        {
            var connection = net.Layers[i];
            var v0 = connection.Layer ?? new V0LayerParameter();
            V1LayerParameter? copy = null;
            if (v0.Type != "padding")
            {
                copy = connection.Clone();
                kept.Add(copy);
            }
            for (int j = 0; j < connection.Bottom.Count; j++)
            {
                string blob = connection.Bottom[j];
                if (!lastWriter.TryGetValue(blob, out int writer))
                    throw new CaffeNetException($"{source}: V0 layer '{v0.Name}' reads blob '{blob}', which no earlier layer or net input produces.");
                if (writer < 0) continue;
                var padding = net.Layers[writer];
                if (padding.Layer?.Type != "padding") continue;
                if (v0.Type is not ("conv" or "pool"))
                    throw new CaffeNetException($"{source}: V0 padding layer '{padding.Layer.Name}' feeds layer '{v0.Name}' of type '{v0.Type}'; only conv and pool layers can take padding.");
                if (connection.Bottom.Count != 1 || padding.Bottom.Count != 1 || padding.Top.Count != 1)
                    throw new CaffeNetException($"{source}: V0 padding layer '{padding.Layer.Name}' and the layer '{v0.Name}' it feeds must each have one bottom (and the padding one top).");
                if (copy is null) continue;   // a padding layer fed by a padding layer: undefined in Caffe too; keep the chain
                copy.Layer.Pad = padding.Layer.Pad;
                copy.Bottom[j] = padding.Bottom[0];
            }
            foreach (var top in connection.Top) lastWriter[top] = i;
        }
        return kept;
    }

    private static V1LayerParameter UpgradeLayer(V1LayerParameter connection, string source, Action<string> warn)
    {
        var result = new V1LayerParameter();
        result.Bottom.Add(connection.Bottom);
        result.Top.Add(connection.Top);
        var v0 = connection.Layer;
        if (v0 is null) return result;
        string type = v0.Type;
        if (v0.HasName) result.Name = v0.Name;
        if (v0.HasType) result.Type = LayerType(type, v0.Name, source);
        result.Blobs.Add(v0.Blobs);
        result.BlobsLr.Add(v0.BlobsLr);
        result.WeightDecay.Add(v0.WeightDecay);

        void Unknown(string field) => warn($"{source}: V0 layer '{v0.Name}': parameter {field} has no meaning for layer type '{type}'; ignored.");
        ConvolutionParameter Conv() => result.ConvolutionParam ??= new ConvolutionParameter();
        InnerProductParameter Ip() => result.InnerProductParam ??= new InnerProductParameter();
        PoolingParameter Pool() => result.PoolingParam ??= new PoolingParameter();
        LRNParameter Lrn() => result.LrnParam ??= new LRNParameter();
        DataParameter Data() => result.DataParam ??= new DataParameter();
        ImageDataParameter Images() => result.ImageDataParam ??= new ImageDataParameter();
        WindowDataParameter Window() => result.WindowDataParam ??= new WindowDataParameter();
        HDF5DataParameter Hdf5() => result.Hdf5DataParam ??= new HDF5DataParameter();
        TransformationParameter Transform() => result.TransformParam ??= new TransformationParameter();

        if (v0.HasNumOutput) { if (type == "conv") Conv().NumOutput = v0.NumOutput; else if (type == "innerproduct") Ip().NumOutput = v0.NumOutput; else Unknown("num_output"); }
        if (v0.HasBiasterm) { if (type == "conv") Conv().BiasTerm = v0.Biasterm; else if (type == "innerproduct") Ip().BiasTerm = v0.Biasterm; else Unknown("biasterm"); }
        if (v0.WeightFiller is { } wf) { if (type == "conv") Conv().WeightFiller = wf.Clone(); else if (type == "innerproduct") Ip().WeightFiller = wf.Clone(); else Unknown("weight_filler"); }
        if (v0.BiasFiller is { } bf) { if (type == "conv") Conv().BiasFiller = bf.Clone(); else if (type == "innerproduct") Ip().BiasFiller = bf.Clone(); else Unknown("bias_filler"); }
        if (v0.HasPad) { if (type == "conv") Conv().Pad.Add(v0.Pad); else if (type == "pool") Pool().Pad = v0.Pad; else Unknown("pad"); }
        if (v0.HasKernelsize) { if (type == "conv") Conv().KernelSize.Add(v0.Kernelsize); else if (type == "pool") Pool().KernelSize = v0.Kernelsize; else Unknown("kernelsize"); }
        if (v0.HasGroup) { if (type == "conv") Conv().Group = v0.Group; else Unknown("group"); }
        if (v0.HasStride) { if (type == "conv") Conv().Stride.Add(v0.Stride); else if (type == "pool") Pool().Stride = v0.Stride; else Unknown("stride"); }
        if (v0.HasPool)
        {
            if (type == "pool") Pool().Pool = (PoolingParameter.Types.PoolMethod)(int)v0.Pool;   // MAX, AVE, STOCHASTIC: the same numbers
            else Unknown("pool");
        }
        if (v0.HasDropoutRatio) { if (type == "dropout") (result.DropoutParam ??= new DropoutParameter()).DropoutRatio = v0.DropoutRatio; else Unknown("dropout_ratio"); }
        if (v0.HasLocalSize) { if (type == "lrn") Lrn().LocalSize = v0.LocalSize; else Unknown("local_size"); }
        if (v0.HasAlpha) { if (type == "lrn") Lrn().Alpha = v0.Alpha; else Unknown("alpha"); }
        if (v0.HasBeta) { if (type == "lrn") Lrn().Beta = v0.Beta; else Unknown("beta"); }
        if (v0.HasK) { if (type == "lrn") Lrn().K = v0.K; else Unknown("k"); }
        if (v0.HasSource)
        {
            switch (type)
            {
                case "data": Data().Source = v0.Source; break;
                case "hdf5_data": Hdf5().Source = v0.Source; break;
                case "images": Images().Source = v0.Source; break;
                case "window_data": Window().Source = v0.Source; break;
                case "infogain_loss": (result.InfogainLossParam ??= new InfogainLossParameter()).Source = v0.Source; break;
                default: Unknown("source"); break;
            }
        }
        if (v0.HasScale) Transform().Scale = v0.Scale;
        if (v0.HasMeanfile) Transform().MeanFile = v0.Meanfile;
        if (v0.HasBatchsize)
        {
            switch (type)
            {
                case "data": Data().BatchSize = v0.Batchsize; break;
                case "hdf5_data": Hdf5().BatchSize = v0.Batchsize; break;
                case "images": Images().BatchSize = v0.Batchsize; break;
                case "window_data": Window().BatchSize = v0.Batchsize; break;
                default: Unknown("batchsize"); break;
            }
        }
        if (v0.HasCropsize) Transform().CropSize = v0.Cropsize;
        if (v0.HasMirror) Transform().Mirror = v0.Mirror;
        if (v0.HasRandSkip) { if (type == "data") Data().RandSkip = v0.RandSkip; else if (type == "images") Images().RandSkip = v0.RandSkip; else Unknown("rand_skip"); }
        if (v0.HasShuffleImages) { if (type == "images") Images().Shuffle = v0.ShuffleImages; else Unknown("shuffle_images"); }
        if (v0.HasNewHeight) { if (type == "images") Images().NewHeight = (uint)v0.NewHeight; else Unknown("new_height"); }
        if (v0.HasNewWidth) { if (type == "images") Images().NewWidth = (uint)v0.NewWidth; else Unknown("new_width"); }
        if (v0.HasConcatDim) { if (type == "concat") (result.ConcatParam ??= new ConcatParameter()).ConcatDim = v0.ConcatDim; else Unknown("concat_dim"); }
        if (v0.HasDetFgThreshold) { if (type == "window_data") Window().FgThreshold = v0.DetFgThreshold; else Unknown("det_fg_threshold"); }
        if (v0.HasDetBgThreshold) { if (type == "window_data") Window().BgThreshold = v0.DetBgThreshold; else Unknown("det_bg_threshold"); }
        if (v0.HasDetFgFraction) { if (type == "window_data") Window().FgFraction = v0.DetFgFraction; else Unknown("det_fg_fraction"); }
        if (v0.HasDetContextPad) { if (type == "window_data") Window().ContextPad = v0.DetContextPad; else Unknown("det_context_pad"); }
        if (v0.HasDetCropMode) { if (type == "window_data") Window().CropMode = v0.DetCropMode; else Unknown("det_crop_mode"); }
        if (v0.Hdf5OutputParam is { } h5) { if (type == "hdf5_output") result.Hdf5OutputParam = h5.Clone(); else Unknown("hdf5_output_param"); }
        return result;
    }

    /// <summary>V0's type names and the V1 types they became.</summary>
    internal static readonly IReadOnlyDictionary<string, V1Type> Types = new Dictionary<string, V1Type>(StringComparer.Ordinal)
    {
        ["accuracy"] = V1Type.Accuracy, ["bnll"] = V1Type.Bnll, ["concat"] = V1Type.Concat, ["conv"] = V1Type.Convolution,
        ["data"] = V1Type.Data, ["dropout"] = V1Type.Dropout, ["euclidean_loss"] = V1Type.EuclideanLoss, ["flatten"] = V1Type.Flatten,
        ["hdf5_data"] = V1Type.Hdf5Data, ["hdf5_output"] = V1Type.Hdf5Output, ["im2col"] = V1Type.Im2Col, ["images"] = V1Type.ImageData,
        ["infogain_loss"] = V1Type.InfogainLoss, ["innerproduct"] = V1Type.InnerProduct, ["lrn"] = V1Type.Lrn,
        ["multinomial_logistic_loss"] = V1Type.MultinomialLogisticLoss, ["pool"] = V1Type.Pooling, ["relu"] = V1Type.Relu,
        ["sigmoid"] = V1Type.Sigmoid, ["softmax"] = V1Type.Softmax, ["softmax_loss"] = V1Type.SoftmaxLoss, ["split"] = V1Type.Split,
        ["tanh"] = V1Type.Tanh, ["window_data"] = V1Type.WindowData,
    };

    private static V1Type LayerType(string type, string name, string source) =>
        Types.TryGetValue(type, out var v1) ? v1
            : throw new CaffeNetException($"{source}: V0 layer '{name}' has unknown type '{type}' (known: {string.Join(", ", Types.Keys)}).");
}
