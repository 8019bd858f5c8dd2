using Backprop.Vision;

namespace Backprop.Detection;

/// <summary>
/// One image with its ground truth: <see cref="Image"/> (3, H, W) RGB with values in [0, 1], <see cref="Target"/>
/// with boxes in that image's continuous pixel coordinates, and the dataset's <see cref="Id"/> for the image.
/// </summary>
public sealed record DetectionSample(Image Image, DetectionTarget Target, string Id);
