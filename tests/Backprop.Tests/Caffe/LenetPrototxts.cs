namespace Backprop.Tests.Caffe;

/// <summary>
/// The LeNet net and solver for MNIST, laid out as Caffe's examples/mnist ships them
/// (lenet_train_test.prototxt and lenet_solver.prototxt; comments are ours).
/// </summary>
internal static class LenetPrototxts
{
    public const string TrainTest = """
        name: "LeNet"
        layer {
          name: "mnist"
          type: "Data"
          top: "data"
          top: "label"
          include {
            phase: TRAIN
          }
          transform_param {
            scale: 0.00390625
          }
          data_param {
            source: "examples/mnist/mnist_train_lmdb"
            batch_size: 64
            backend: LMDB
          }
        }
        layer {
          name: "mnist"
          type: "Data"
          top: "data"
          top: "label"
          include {
            phase: TEST
          }
          transform_param {
            scale: 0.00390625
          }
          data_param {
            source: "examples/mnist/mnist_test_lmdb"
            batch_size: 100
            backend: LMDB
          }
        }
        layer {
          name: "conv1"
          type: "Convolution"
          bottom: "data"
          top: "conv1"
          param {
            lr_mult: 1
          }
          param {
            lr_mult: 2
          }
          convolution_param {
            num_output: 20
            kernel_size: 5
            stride: 1
            weight_filler {
              type: "xavier"
            }
            bias_filler {
              type: "constant"
            }
          }
        }
        layer {
          name: "pool1"
          type: "Pooling"
          bottom: "conv1"
          top: "pool1"
          pooling_param {
            pool: MAX
            kernel_size: 2
            stride: 2
          }
        }
        layer {
          name: "conv2"
          type: "Convolution"
          bottom: "pool1"
          top: "conv2"
          param {
            lr_mult: 1
          }
          param {
            lr_mult: 2
          }
          convolution_param {
            num_output: 50
            kernel_size: 5
            stride: 1
            weight_filler {
              type: "xavier"
            }
            bias_filler {
              type: "constant"
            }
          }
        }
        layer {
          name: "pool2"
          type: "Pooling"
          bottom: "conv2"
          top: "pool2"
          pooling_param {
            pool: MAX
            kernel_size: 2
            stride: 2
          }
        }
        layer {
          name: "ip1"
          type: "InnerProduct"
          bottom: "pool2"
          top: "ip1"
          param {
            lr_mult: 1
          }
          param {
            lr_mult: 2
          }
          inner_product_param {
            num_output: 500
            weight_filler {
              type: "xavier"
            }
            bias_filler {
              type: "constant"
            }
          }
        }
        layer {
          name: "relu1"
          type: "ReLU"
          bottom: "ip1"
          top: "ip1"
        }
        layer {
          name: "ip2"
          type: "InnerProduct"
          bottom: "ip1"
          top: "ip2"
          param {
            lr_mult: 1
          }
          param {
            lr_mult: 2
          }
          inner_product_param {
            num_output: 10
            weight_filler {
              type: "xavier"
            }
            bias_filler {
              type: "constant"
            }
          }
        }
        layer {
          name: "accuracy"
          type: "Accuracy"
          bottom: "ip2"
          bottom: "label"
          top: "accuracy"
          include {
            phase: TEST
          }
        }
        layer {
          name: "loss"
          type: "SoftmaxWithLoss"
          bottom: "ip2"
          bottom: "label"
          top: "loss"
        }

        """;

    public const string Solver = """
        # Which net to train (and test: the TEST-phase layers of the same file).
        net: "examples/mnist/lenet_train_test.prototxt"
        # 100 test batches of 100 images cover the 10,000 test images.
        test_iter: 100
        # Test every 500 training iterations.
        test_interval: 500
        # Learning rate, momentum and weight decay.
        base_lr: 0.01
        momentum: 0.9
        weight_decay: 0.0005
        # lr = base_lr * (1 + gamma * iter) ^ (-power)
        lr_policy: "inv"
        gamma: 0.0001
        power: 0.75
        # Print the loss every 100 iterations.
        display: 100
        # Stop after this many iterations.
        max_iter: 10000
        # Write weights and solver state every 5000 iterations.
        snapshot: 5000
        snapshot_prefix: "examples/mnist/lenet"
        # CPU or GPU.
        solver_mode: CPU

        """;
}
