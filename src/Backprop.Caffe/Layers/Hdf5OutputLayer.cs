using Backprop.Caffe.Hdf5;
using Backprop.Caffe.Proto;
using Backprop.IO;
using PureHDF;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's HDF5Output layer: writes its two bottoms to hdf5_output_param.file_name as the float datasets <c>data</c>
/// and <c>label</c>, each in Caffe's legacy four-axis shape (num, channels, height, width; missing axes are 1). Caffe
/// writes once per file and fails on a second forward pass; here each forward pass replaces the file (written to a
/// temporary file, then renamed) with its batch. No tops, no gradient.
/// </summary>
public sealed class Hdf5OutputLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private string fileName = "";

    public override (int Min, int Max) Bottoms => (2, 2);
    public override (int Min, int Max) Tops => (0, 0);

    /// <summary>The file each forward pass writes.</summary>
    public string FileName => fileName;

    public override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.Hdf5OutputParam ?? throw Error("hdf5_output_param is missing.");
        if (string.IsNullOrEmpty(p.FileName)) throw Error("hdf5_output_param.file_name is missing.");
        fileName = p.FileName;
        for (int i = 0; i < 2; i++)
            if (bottoms[i].Rank is < 1 or > 4)
                throw Error($"bottom '{Definition.Bottom[i]}' has shape {bottoms[i]}; HDF5Output writes blobs of 1 to 4 axes (num, channels, height, width).");
        if (bottoms[0][0] != bottoms[1][0])
            throw Error($"data has {bottoms[0][0]} rows but label has {bottoms[1][0]}; both bottoms need the same batch size.");
        return [];
    }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var file = new H5File
        {
            ["data"] = Hdf5Files.FloatDataset(bottoms[0].ToArray(), Legacy(bottoms[0].Shape)),
            ["label"] = Hdf5Files.FloatDataset(bottoms[1].ToArray(), Legacy(bottoms[1].Shape)),
        };
        try
        {
            AtomicFile.Write(fileName, s => Hdf5Files.Write(file, s, longestString: 0));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error($"cannot write {fileName}: {e.Message}");
        }
        return [];
    }

    // Caffe's num(), channels(), height(), width(): the axes there are, then 1s.
    private static int[] Legacy(Shape shape)
    {
        var dims = new int[] { 1, 1, 1, 1 };
        for (int i = 0; i < shape.Rank; i++) dims[i] = shape[i];
        return dims;
    }
}
