namespace Backprop.Caffe.Layers;

/// <summary>Settings for a built net's py-faster-rcnn layers, as py-faster-rcnn's train_net.py sets cfg and the roidb.</summary>
public static class PyFasterRcnnLayers
{
    /// <summary>
    /// Gives every py-faster-rcnn layer of <paramref name="net"/> <paramref name="config"/> (null: keep theirs) and
    /// every RoIDataLayer the VOC folder <paramref name="vocRoot"/> (null: keep theirs). Returns how many layers changed.
    /// </summary>
    public static int Configure(CaffeNet net, PyFasterRcnnConfig? config = null, string? vocRoot = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        int count = 0;
        foreach (var layer in net.Layers.OfType<PyFasterRcnnLayer>())
        {
            if (config is not null) layer.Config = config;
            if (vocRoot is not null && layer is RoiDataLayer data) data.VocRoot = vocRoot;
            count++;
        }
        return count;
    }
}
