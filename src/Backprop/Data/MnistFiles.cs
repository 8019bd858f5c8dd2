namespace Backprop.Data;

/// <summary>The pair of IDX files that make one split of MNIST or Fashion-MNIST.</summary>
/// <param name="ImagesPath">The images: unsigned bytes of shape (N, 28, 28).</param>
/// <param name="LabelsPath">The labels: unsigned bytes 0-9 of shape (N).</param>
public sealed record MnistFiles(string ImagesPath, string LabelsPath)
{
    /// <summary>The cache file names of a split, as the original distribution names them.</summary>
    public static (string Images, string Labels) FileNames(MnistSplit split) => split switch
    {
        MnistSplit.Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        MnistSplit.Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "MnistSplit is Train or Test"),
    };
}
