namespace Backprop.Tests.Onnx.Export;

/// <summary>Caffe nets for the export tests, written in the layouts Caffe's examples use (comments and small nets are ours).</summary>
internal static class CaffeExportNets
{
    /// <summary>LeNet as a deploy net (the layers of examples/mnist/lenet.prototxt): Input, then up to prob.</summary>
    public static string LeNetDeploy(int batch = 64) => $$"""
        name: "LeNet"
        layer { name: "data" type: "Input" top: "data" input_param { shape: { dim: {{batch}} dim: 1 dim: 28 dim: 28 } } }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
          convolution_param { num_output: 20 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
          convolution_param { num_output: 50 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1"
          inner_product_param { num_output: 500 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
        layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
          inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layer { name: "prob" type: "Softmax" bottom: "ip2" top: "prob" }
        """;

    /// <summary>
    /// An Inception-like block with both kinds of LRN, Concat, Eltwise (SUM with coefficients, PROD, MAX), BatchNorm with
    /// an in-place Scale (folded), a BatchNorm without one, and a standalone Scale and Bias.
    /// </summary>
    public const string NormalizationBlock = """
        name: "norm_block"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 9 dim: 9 } } }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 6 kernel_size: 3 pad: 1 } }
        layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" batch_norm_param { eps: 0.001 } }
        layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
        layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
        layer { name: "norm1" type: "LRN" bottom: "conv1" top: "norm1" lrn_param { local_size: 5 alpha: 0.3 beta: 0.75 k: 2 } }
        layer { name: "norm2" type: "LRN" bottom: "conv1" top: "norm2" lrn_param { local_size: 3 alpha: 0.2 beta: 0.6 norm_region: WITHIN_CHANNEL } }
        layer { name: "branch_a" type: "Convolution" bottom: "norm1" top: "branch_a" convolution_param { num_output: 4 kernel_size: 1 } }
        layer { name: "branch_b" type: "Convolution" bottom: "norm2" top: "branch_b" convolution_param { num_output: 4 kernel_size: 3 pad: 1 group: 2 } }
        layer { name: "concat" type: "Concat" bottom: "branch_a" bottom: "branch_b" top: "concat" }
        layer { name: "bn2" type: "BatchNorm" bottom: "concat" top: "bn2" }
        layer { name: "sum" type: "Eltwise" bottom: "bn2" bottom: "concat" top: "sum" eltwise_param { operation: SUM coeff: 0.5 coeff: -2 } }
        layer { name: "prod" type: "Eltwise" bottom: "sum" bottom: "concat" top: "prod" eltwise_param { operation: PROD } }
        layer { name: "max" type: "Eltwise" bottom: "prod" bottom: "sum" top: "max" eltwise_param { operation: MAX } }
        layer { name: "scale2" type: "Scale" bottom: "max" top: "scale2" scale_param { axis: 1 num_axes: 2 } }
        layer { name: "bias2" type: "Bias" bottom: "scale2" top: "bias2" }
        """;

    /// <summary>Caffe's cifar10_quick shape: 32x32 images through conv 5x5 pad 2 and 3x3 stride-2 pooling (MAX, then AVE), rounded up.</summary>
    public const string CifarQuick = """
        name: "CIFAR10_quick"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 32 dim: 32 } } }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 8 pad: 2 kernel_size: 5 stride: 1 weight_filler { type: "gaussian" std: 0.1 } } }
        layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
        layer { name: "relu1" type: "ReLU" bottom: "pool1" top: "pool1" }
        layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" convolution_param { num_output: 8 pad: 2 kernel_size: 5 stride: 1 weight_filler { type: "gaussian" std: 0.1 } } }
        layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
        layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
        layer { name: "conv3" type: "Convolution" bottom: "pool2" top: "conv3" convolution_param { num_output: 16 pad: 2 kernel_size: 5 stride: 1 weight_filler { type: "gaussian" std: 0.1 } } }
        layer { name: "relu3" type: "ReLU" bottom: "conv3" top: "conv3" }
        layer { name: "pool3" type: "Pooling" bottom: "conv3" top: "pool3" pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
        layer { name: "ip1" type: "InnerProduct" bottom: "pool3" top: "ip1" inner_product_param { num_output: 16 weight_filler { type: "gaussian" std: 0.1 } } }
        layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: 10 weight_filler { type: "gaussian" std: 0.1 } } }
        """;

    /// <summary>AlexNet as Caffe's bvlc_alexnet deploy net lays it out (grouped convolutions, LRN, 61M parameters); no fillers, as in the deploy file.</summary>
    public const string AlexNetDeploy = """
        name: "AlexNet"
        layer { name: "data" type: "Input" top: "data" input_param { shape: { dim: 10 dim: 3 dim: 227 dim: 227 } } }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 96 kernel_size: 11 stride: 4 } }
        layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
        layer { name: "norm1" type: "LRN" bottom: "conv1" top: "norm1" lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
        layer { name: "pool1" type: "Pooling" bottom: "norm1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
        layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" convolution_param { num_output: 256 pad: 2 kernel_size: 5 group: 2 } }
        layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
        layer { name: "norm2" type: "LRN" bottom: "conv2" top: "norm2" lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
        layer { name: "pool2" type: "Pooling" bottom: "norm2" top: "pool2" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
        layer { name: "conv3" type: "Convolution" bottom: "pool2" top: "conv3" convolution_param { num_output: 384 pad: 1 kernel_size: 3 } }
        layer { name: "relu3" type: "ReLU" bottom: "conv3" top: "conv3" }
        layer { name: "conv4" type: "Convolution" bottom: "conv3" top: "conv4" convolution_param { num_output: 384 pad: 1 kernel_size: 3 group: 2 } }
        layer { name: "relu4" type: "ReLU" bottom: "conv4" top: "conv4" }
        layer { name: "conv5" type: "Convolution" bottom: "conv4" top: "conv5" convolution_param { num_output: 256 pad: 1 kernel_size: 3 group: 2 } }
        layer { name: "relu5" type: "ReLU" bottom: "conv5" top: "conv5" }
        layer { name: "pool5" type: "Pooling" bottom: "conv5" top: "pool5" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
        layer { name: "fc6" type: "InnerProduct" bottom: "pool5" top: "fc6" inner_product_param { num_output: 4096 } }
        layer { name: "relu6" type: "ReLU" bottom: "fc6" top: "fc6" }
        layer { name: "drop6" type: "Dropout" bottom: "fc6" top: "fc6" dropout_param { dropout_ratio: 0.5 } }
        layer { name: "fc7" type: "InnerProduct" bottom: "fc6" top: "fc7" inner_product_param { num_output: 4096 } }
        layer { name: "relu7" type: "ReLU" bottom: "fc7" top: "fc7" }
        layer { name: "drop7" type: "Dropout" bottom: "fc7" top: "fc7" dropout_param { dropout_ratio: 0.5 } }
        layer { name: "fc8" type: "InnerProduct" bottom: "fc7" top: "fc8" inner_product_param { num_output: 1000 } }
        layer { name: "prob" type: "Softmax" bottom: "fc8" top: "prob" }
        """;
}
