namespace Backprop.Caffe;

/// <summary>A Caffe net or solver that cannot be built or run, with the layer, blob or iteration named.</summary>
public sealed class CaffeNetException(string message, Exception? inner = null) : Exception(message, inner);
