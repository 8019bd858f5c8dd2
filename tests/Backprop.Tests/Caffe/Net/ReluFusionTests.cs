using Backprop.Caffe;
using Backprop.Caffe.Proto;

namespace Backprop.Tests.Caffe.Net;

/// <summary>
/// CaffeNet runs an in-place ReLU after a 2-D convolution or a MAX pooling inside that layer (Conv2dRelu, MaxPool2dRelu):
/// the loss and every gradient are the bits of the same net whose ReLUs are not in place (and so run alone).
/// </summary>
public class ReluFusionTests
{
    // cifar10_quick's order: conv, MAX pool, ReLU; conv, ReLU, AVE pool; ip, ReLU; RELU tops named by {0} ("" in place).
    private static string Net(bool inPlace)
    {
        string r1 = inPlace ? "pool1" : "relu1", r2 = inPlace ? "conv2" : "relu2", r3 = inPlace ? "ip1" : "relu3";
        return $$"""
            layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 4 dim: 3 dim: 32 dim: 32 } shape { dim: 4 } } }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
              convolution_param { num_output: 16 pad: 2 kernel_size: 5 weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" value: 0.01 } } }
            layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
            layer { name: "relu1" type: "ReLU" bottom: "pool1" top: "{{r1}}" }
            layer { name: "conv2" type: "Convolution" bottom: "{{r1}}" top: "conv2"
              convolution_param { num_output: 16 pad: 2 kernel_size: 5 weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" value: -0.01 } } }
            layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "{{r2}}" }
            layer { name: "pool2" type: "Pooling" bottom: "{{r2}}" top: "pool2" pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
            layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1" inner_product_param { num_output: 12 weight_filler { type: "gaussian" std: 0.1 } } }
            layer { name: "relu3" type: "ReLU" bottom: "ip1" top: "{{r3}}" }
            layer { name: "ip2" type: "InnerProduct" bottom: "{{r3}}" top: "ip2" inner_product_param { num_output: 10 weight_filler { type: "gaussian" std: 0.1 } } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
            """;
    }

    private static (float Loss, float[][] Grads, NetResult Result) Step(string prototxt)
    {
        var net = NetBuilderTests.Build(prototxt, Phase.Train, seed: 3);
        var context = new NetContext(Phase.Train, 3);
        context.Inputs["data"] = Tensor.Uniform(new Generator(5), -1, 1, 4, 3, 32, 32);
        context.Inputs["label"] = Tensor.FromArray([1, 4, 7, 9], 4);
        var result = net.Forward(context);
        net.Backward(result);
        return (result.Loss!.Item(), net.Parameters.Select(p => p.Grad!.ToArray()).ToArray(), result);
    }

    [Fact]
    public void FusedReluKeepsTheBitsOfSeparateReluLayers()
    {
        var (fusedLoss, fusedGrads, fused) = Step(Net(inPlace: true));
        var (loss, grads, _) = Step(Net(inPlace: false));
        Assert.Equal(BitConverter.SingleToInt32Bits(loss), BitConverter.SingleToInt32Bits(fusedLoss));
        Assert.Equal(grads.Length, fusedGrads.Length);
        for (int p = 0; p < grads.Length; p++)
            Assert.Equal(grads[p].Select(BitConverter.SingleToInt32Bits), fusedGrads[p].Select(BitConverter.SingleToInt32Bits));
        // The fusions happened: the pool's and the convolution's tops come from the fused ops.
        Assert.Equal("MaxPool2DReluBackward", fused.Blobs["pool1"].GradFn!.Name);
        Assert.Equal("ConvolutionReluBackward", fused.Blobs["conv2"].GradFn!.Name);
        Assert.Equal("ReluBackward", fused.Blobs["ip1"].GradFn!.Name);   // InnerProduct does not fuse: its ReLU runs alone
    }
}
