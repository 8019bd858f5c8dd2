namespace Backprop.Vision;

/// <summary>The order of the three colour planes of a decoded colour image.</summary>
public enum ChannelOrder
{
    /// <summary>Blue, green, red: as Caffe stores images (through OpenCV's <c>imread</c>).</summary>
    Bgr,

    /// <summary>Red, green, blue: as Keras, PyTorch and the files themselves order them.</summary>
    Rgb,
}
