namespace Backprop.Tests.Caffe.Net;

/// <summary>Nets in Caffe's old formats, written as Caffe's 2014 examples were (V1 enum types, blobs_lr; V0 nested layers).</summary>
internal static class V1Prototxts
{
    /// <summary>LeNet in the V1 format: the TRAIN data layer keeps its scale in data_param (older still), the TEST one in transform_param.</summary>
    public const string LeNet = """
        name: "LeNet"
        layers {
          name: "mnist"
          type: DATA
          top: "data"
          top: "label"
          data_param { source: "examples/mnist/mnist_train_lmdb" backend: LMDB batch_size: 64 scale: 0.00390625 }
          include: { phase: TRAIN }
        }
        layers {
          name: "mnist"
          type: DATA
          top: "data"
          top: "label"
          data_param { source: "examples/mnist/mnist_test_lmdb" backend: LMDB batch_size: 100 }
          transform_param { scale: 0.00390625 }
          include: { phase: TEST }
        }
        layers {
          name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
          blobs_lr: 1 blobs_lr: 2
          convolution_param { num_output: 20 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } }
        }
        layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layers {
          name: "conv2" type: CONVOLUTION bottom: "pool1" top: "conv2"
          blobs_lr: 1 blobs_lr: 2
          convolution_param { num_output: 50 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } }
        }
        layers { name: "pool2" type: POOLING bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layers {
          name: "ip1" type: INNER_PRODUCT bottom: "pool2" top: "ip1"
          blobs_lr: 1 blobs_lr: 2
          inner_product_param { num_output: 500 weight_filler { type: "xavier" } bias_filler { type: "constant" } }
        }
        layers { name: "relu1" type: RELU bottom: "ip1" top: "ip1" }
        layers {
          name: "ip2" type: INNER_PRODUCT bottom: "ip1" top: "ip2"
          blobs_lr: 1 blobs_lr: 2
          inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } }
        }
        layers { name: "accuracy" type: ACCURACY bottom: "ip2" bottom: "label" top: "accuracy" include: { phase: TEST } }
        layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip2" bottom: "label" top: "loss" }
        """;

    /// <summary>A V0 net: net-level input with input_dim, a padding layer in front of a conv, flat V0 settings.</summary>
    public const string V0Net = """
        name: "old"
        input: "data"
        input_dim: 2 input_dim: 1 input_dim: 6 input_dim: 6
        layers { layer { name: "pad1" type: "padding" pad: 1 } bottom: "data" top: "pad1" }
        layers {
          layer { name: "conv1" type: "conv" num_output: 3 kernelsize: 3 stride: 1
                  weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" value: 0.2 }
                  blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0 }
          bottom: "pad1" top: "conv1"
        }
        layers { layer { name: "relu1" type: "relu" } bottom: "conv1" top: "conv1" }
        layers { layer { name: "pool1" type: "pool" pool: AVE kernelsize: 2 stride: 2 } bottom: "conv1" top: "pool1" }
        layers { layer { name: "fc" type: "innerproduct" num_output: 4 biasterm: false weight_filler { type: "xavier" } } bottom: "pool1" top: "fc" }
        layers { layer { name: "drop" type: "dropout" dropout_ratio: 0.25 } bottom: "fc" top: "fc" }
        layers { layer { name: "prob" type: "softmax" } bottom: "fc" top: "prob" }
        """;

    /// <summary>What <see cref="V0Net"/> is in the current format, worked out from Caffe's upgrade rules.</summary>
    public const string V0NetUpgraded = """
        name: "old"
        layer { name: "input" type: "Input" top: "data" input_param { shape { dim: 2 dim: 1 dim: 6 dim: 6 } } }
        layer {
          name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
          param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
          convolution_param { num_output: 3 pad: 1 kernel_size: 3 stride: 1
                              weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" value: 0.2 } }
        }
        layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
        layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
        layer { name: "fc" type: "InnerProduct" bottom: "pool1" top: "fc" inner_product_param { num_output: 4 bias_term: false weight_filler { type: "xavier" } } }
        layer { name: "drop" type: "Dropout" bottom: "fc" top: "fc" dropout_param { dropout_ratio: 0.25 } }
        layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
        """;

    /// <summary>
    /// A solver laid out as Caffe's lenet_consolidated_solver.prototxt: the V1 net inline in net_param, two test nets told
    /// apart by stages, the deprecated solver_type, solver_mode GPU. Data sources are <c>{train}</c> and <c>{test}</c>.
    /// </summary>
    public const string ConsolidatedSolver = """
        test_interval: 20
        base_lr: 0.01
        momentum: 0.9
        weight_decay: 0.0005
        lr_policy: "inv"
        gamma: 0.0001
        power: 0.75
        display: 10
        max_iter: 40
        random_seed: 1701
        solver_mode: GPU
        solver_type: SGD
        test_initialization: false
        snapshot_after_train: false
        test_iter: 2
        test_state: { stage: "test-on-test-set" }
        test_iter: 3
        test_state: { stage: "test-on-train-set" }
        net_param {
          name: "LeNet"
          layers { name: "mnist" type: DATA top: "data" top: "label"
            data_param { source: "{train}" backend: LMDB batch_size: 16 } transform_param { scale: 0.00390625 } include: { phase: TRAIN } }
          layers { name: "mnist" type: DATA top: "data" top: "label"
            data_param { source: "{test}" backend: LMDB batch_size: 20 } transform_param { scale: 0.00390625 }
            include: { phase: TEST stage: "test-on-test-set" } }
          layers { name: "mnist" type: DATA top: "data" top: "label"
            data_param { source: "{train}" backend: LMDB batch_size: 20 } transform_param { scale: 0.00390625 }
            include: { phase: TEST stage: "test-on-train-set" } }
          layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" blobs_lr: 1 blobs_lr: 2
            convolution_param { num_output: 20 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
          layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
          layers { name: "conv2" type: CONVOLUTION bottom: "pool1" top: "conv2" blobs_lr: 1 blobs_lr: 2
            convolution_param { num_output: 50 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
          layers { name: "pool2" type: POOLING bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
          layers { name: "ip1" type: INNER_PRODUCT bottom: "pool2" top: "ip1" blobs_lr: 1 blobs_lr: 2
            inner_product_param { num_output: 500 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
          layers { name: "relu1" type: RELU bottom: "ip1" top: "ip1" }
          layers { name: "ip2" type: INNER_PRODUCT bottom: "ip1" top: "ip2" blobs_lr: 1 blobs_lr: 2
            inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
          layers { name: "accuracy" type: ACCURACY bottom: "ip2" bottom: "label" top: "accuracy" include: { phase: TEST } }
          layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip2" bottom: "label" top: "loss" }
        }
        """;
}
