namespace Backprop.Data;

/// <summary>What MNIST and Fashion-MNIST share: file names per split, and the checks on a loaded split.</summary>
internal static class MnistFormat
{
    public const int Size = 28;
    public const int Classes = 10;

    public static MnistFiles EnsureFiles(DatasetFetcher fetcher, MnistSplit split, IProgress<string>? log)
    {
        var (images, labels) = MnistFiles.FileNames(split);
        string[] paths = fetcher.EnsureFiles([images, labels], log);
        return new MnistFiles(paths[0], paths[1]);
    }

    public static LabeledImages Load(MnistFiles files)
    {
        var data = LabeledImages.FromIdxFiles(files.ImagesPath, files.LabelsPath);
        var shape = data.Images.Shape;
        if (shape[2] != Size || shape[3] != Size)
            throw new InvalidDataException($"'{files.ImagesPath}' holds images of {shape[2]}x{shape[3]} pixels; MNIST images are {Size}x{Size}.");
        int bad = Array.FindIndex(data.Labels, l => l >= Classes);
        if (bad >= 0)
            throw new InvalidDataException($"'{files.LabelsPath}' has label {data.Labels[bad]} at index {bad}; labels must be 0-{Classes - 1}.");
        return data;
    }
}
