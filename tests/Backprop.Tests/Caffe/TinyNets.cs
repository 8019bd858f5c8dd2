namespace Backprop.Tests.Caffe;

/// <summary>Small Caffe nets that several test classes build, each with weights of its own.</summary>
internal static class TinyNets
{
    /// <summary>Input 2x1x6x6 → conv1 (2 filters 3x3) → ReLU in place → ip1 (3) → softmax loss.</summary>
    public const string ConvReluInnerProduct = """
        name: "tiny"
        layer { name: "data" type: "Input" top: "data" top: "label"
          input_param { shape { dim: 2 dim: 1 dim: 6 dim: 6 } shape { dim: 2 } } }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
          convolution_param { num_output: 2 kernel_size: 3 weight_filler { type: "xavier" } } }
        layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
        layer { name: "ip1" type: "InnerProduct" bottom: "conv1" top: "ip1" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" top: "loss" }
        """;
}
