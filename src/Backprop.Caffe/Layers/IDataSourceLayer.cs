namespace Backprop.Caffe.Layers;

/// <summary>A layer that feeds a net from a dataset in batches (Data, ImageData): what the solver needs for epochs and exact resume.</summary>
public interface IDataSourceLayer
{
    /// <summary>Samples per forward pass.</summary>
    int BatchSize { get; }

    /// <summary>Samples in one pass over the dataset.</summary>
    int DatasetSize { get; }

    /// <summary>Positions the layer at sample <paramref name="sample"/> of its endless sequence, so the next batch starts there.</summary>
    void Seek(long sample);
}
