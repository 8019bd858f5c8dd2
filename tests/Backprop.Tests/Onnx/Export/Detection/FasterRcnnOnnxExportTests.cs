using Backprop.Detection;
using Backprop.Onnx;
using Xunit.Abstractions;

namespace Backprop.Tests.Onnx.Export.Detection;

/// <summary>A Faster R-CNN exported to ONNX detects in ONNX Runtime what <see cref="FasterRcnn.Detect"/> detects.</summary>
public class FasterRcnnOnnxExportTests(ITestOutputHelper log)
{
    [Fact]
    public void DetectionsMatchOnImagesOfTwoSizes()
    {
        var model = DetectionOnnxCheck.Model(1);
        byte[] onnx = DetectionOnnxCheck.Bytes(FasterRcnnOnnxExport.BuildGraph(model));
        int found = 0;
        found += DetectionOnnxCheck.AssertDetectionsMatch(model, onnx, DetectionOnnxCheck.Image(0), log, "opset 17, image 0");
        found += DetectionOnnxCheck.AssertDetectionsMatch(model, onnx, DetectionOnnxCheck.Image(1), log, "opset 17, image 1");
        found += DetectionOnnxCheck.AssertDetectionsMatch(model, onnx, DetectionOnnxCheck.Image(2, 96, 160), log, "opset 17, image 2 cropped");
        Assert.True(found >= 6, $"only {found} detections in three images: the comparison would prove little");
    }
}
