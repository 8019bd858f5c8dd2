using Backprop.Caffe.Layers;
using Backprop.Caffe.Proto;

namespace Backprop.Caffe;

/// <summary>Maps a prototxt layer <c>type</c> to its implementation.</summary>
public static class LayerFactory
{
    private static readonly Dictionary<string, Func<LayerParameter, CaffeLayer>> Types = new()
    {
        ["Data"] = p => new DataLayer(p),
        ["ImageData"] = p => new ImageDataLayer(p),
        ["WindowData"] = p => new WindowDataLayer(p),
        ["Input"] = p => new InputLayer(p),
        ["DummyData"] = p => new DummyDataLayer(p),
        ["Convolution"] = p => new ConvolutionLayer(p),
        ["Pooling"] = p => new PoolingLayer(p),
        ["InnerProduct"] = p => new InnerProductLayer(p),
        ["ReLU"] = p => new ReluLayer(p),
        ["Sigmoid"] = p => new SigmoidLayer(p),
        ["TanH"] = p => new TanhLayer(p),
        ["Dropout"] = p => new DropoutLayer(p),
        ["Softmax"] = p => new SoftmaxLayer(p),
        ["SoftmaxWithLoss"] = p => new SoftmaxWithLossLayer(p),
        ["Accuracy"] = p => new AccuracyLayer(p),
        ["EuclideanLoss"] = p => new EuclideanLossLayer(p),
        ["SigmoidCrossEntropyLoss"] = p => new SigmoidCrossEntropyLossLayer(p),
        ["ContrastiveLoss"] = p => new ContrastiveLossLayer(p),
        ["HingeLoss"] = p => new HingeLossLayer(p),
        ["InfogainLoss"] = p => new InfogainLossLayer(p),
        ["MultinomialLogisticLoss"] = p => new MultinomialLogisticLossLayer(p),
        ["MemoryData"] = p => new MemoryDataLayer(p),
        ["BatchNorm"] = p => new BatchNormLayer(p),
        ["Scale"] = p => new ScaleLayer(p),
        ["LRN"] = p => new LrnLayer(p),
        ["Concat"] = p => new ConcatLayer(p),
        ["Eltwise"] = p => new EltwiseLayer(p),
        ["Flatten"] = p => new FlattenLayer(p),
        ["Reshape"] = p => new ReshapeLayer(p),
        ["Split"] = p => new SplitLayer(p),
        ["Silence"] = p => new SilenceLayer(p),
        ["Embed"] = p => new EmbedLayer(p),
        ["RNN"] = p => new RnnLayer(p),
        ["LSTM"] = p => new LstmLayer(p),
        ["LSTMUnit"] = p => new LstmUnitLayer(p),
        ["PReLU"] = p => new PreluLayer(p),
        ["ELU"] = p => new EluLayer(p),
        ["BNLL"] = p => new BnllLayer(p),
        ["AbsVal"] = p => new AbsValLayer(p),
        ["Swish"] = p => new SwishLayer(p),
        ["Clip"] = p => new ClipLayer(p),
        ["Threshold"] = p => new ThresholdLayer(p),
        ["Power"] = p => new PowerLayer(p),
        ["Exp"] = p => new ExpLayer(p),
        ["Log"] = p => new LogLayer(p),
        ["Bias"] = p => new BiasLayer(p),
        ["Reduction"] = p => new ReductionLayer(p),
        ["ArgMax"] = p => new ArgMaxLayer(p),
        ["MVN"] = p => new MvnLayer(p),
        ["Slice"] = p => new SliceLayer(p),
        ["Tile"] = p => new TileLayer(p),
        ["Filter"] = p => new FilterLayer(p),
        ["BatchReindex"] = p => new BatchReindexLayer(p),
        ["Parameter"] = p => new ParameterLayer(p),
        ["Deconvolution"] = p => new DeconvolutionLayer(p),
        ["Crop"] = p => new CropLayer(p),
        ["SPP"] = p => new SppLayer(p),
        ["Im2col"] = p => new Im2colLayer(p),
        ["ROIPooling"] = p => new RoiPoolingLayer(p),
        ["SmoothL1Loss"] = p => new SmoothL1LossLayer(p),
        ["Python"] = PythonLayers.Create,
        ["HDF5Data"] = p => new Hdf5DataLayer(p),
        ["HDF5Output"] = p => new Hdf5OutputLayer(p),
    };

    /// <summary>The layer types this front-end builds.</summary>
    public static IReadOnlyCollection<string> KnownTypes => Types.Keys;

    public static CaffeLayer Create(LayerParameter definition) =>
        Types.TryGetValue(definition.Type, out var create) ? create(definition)
            : throw new CaffeNetException(
                $"Layer '{definition.Name}' has type '{definition.Type}', which Backprop does not support. Supported types: {string.Join(", ", Types.Keys.Order())}.");
}
