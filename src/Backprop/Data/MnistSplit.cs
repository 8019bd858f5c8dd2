namespace Backprop.Data;

/// <summary>The two parts of MNIST and Fashion-MNIST: 60000 training and 10000 test images.</summary>
public enum MnistSplit
{
    Train,
    Test,
}
