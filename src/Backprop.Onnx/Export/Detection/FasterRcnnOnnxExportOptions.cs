namespace Backprop.Onnx;

/// <summary>Choices for <see cref="FasterRcnnOnnxExport"/>.</summary>
public sealed class FasterRcnnOnnxExportOptions
{
    /// <summary>The default-domain operator set declared: 17 (default) down to 13. RoiAlign's coordinate mode is written from 16 on.</summary>
    public int Opset { get; init; } = 17;

    /// <summary>The graph's name; null uses "FasterRcnn".</summary>
    public string? GraphName { get; init; }
}
