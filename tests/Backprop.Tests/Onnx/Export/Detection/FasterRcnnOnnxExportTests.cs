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

    [Theory]
    [InlineData(13, RoiPoolerKind.Align)]
    [InlineData(17, RoiPoolerKind.Pool)]
    [InlineData(13, RoiPoolerKind.Pool)]
    public void DetectionsMatchAtOpset13AndWithRoiMaxPooling(int opset, RoiPoolerKind pooler)
    {
        var model = DetectionOnnxCheck.Model(2, new RoiHeadsOptions { ScoreThreshold = 0.3f, Pooler = pooler });
        byte[] onnx = DetectionOnnxCheck.Bytes(FasterRcnnOnnxExport.BuildGraph(model, new FasterRcnnOnnxExportOptions { Opset = opset }));
        int found = DetectionOnnxCheck.AssertDetectionsMatch(model, onnx, DetectionOnnxCheck.Image(3, 112, 128), log, $"opset {opset}, {pooler}");
        Assert.True(found >= 2, $"only {found} detections");
    }

    [Fact]
    public void EveryTestTimeSettingIsHonoured()
    {
        var rpn = new RpnOptions { PreNmsTopNTest = 60, PostNmsTopNTest = 10, NmsThreshold = 0.5f, MinSize = 6f };
        var heads = new RoiHeadsOptions
        {
            ScoreThreshold = 0.5f, NmsThreshold = 0.3f, DetectionsPerImage = 6, SamplingRatio = 0, PooledSize = 5, BoxCoderWeights = (5f, 5f, 2f, 2f),
        };
        var model = DetectionOnnxCheck.Model(3, heads, rpn);
        byte[] onnx = DetectionOnnxCheck.Bytes(FasterRcnnOnnxExport.BuildGraph(model));
        int found = DetectionOnnxCheck.AssertDetectionsMatch(model, onnx, DetectionOnnxCheck.Image(4), log, "custom settings");
        Assert.Equal(6, found);
        Assert.Equal(10, model.LastRpnOutput!.Proposals[0].Shape[0]);
    }

    [Theory]
    [InlineData(1f, 1e-3f)]   // no class scores above 1: candidates but no detections
    [InlineData(0.3f, 1e4f)]  // every proposal too small: no RoIs at all
    public void AnImageWithNothingFoundGivesEmptyOutputs(float scoreThreshold, float minSize)
    {
        var model = DetectionOnnxCheck.Model(4, new RoiHeadsOptions { ScoreThreshold = scoreThreshold }, new RpnOptions { MinSize = minSize });
        byte[] onnx = DetectionOnnxCheck.Bytes(FasterRcnnOnnxExport.BuildGraph(model));
        Assert.Equal(0, DetectionOnnxCheck.AssertDetectionsMatch(model, onnx, DetectionOnnxCheck.Image(5), log, "nothing found"));
    }

    [Fact]
    public void AVgg16DetectorMatches()
    {
        var model = FasterRcnn.Create(new FasterRcnnConfig
        {
            Backbone = "vgg16", Classes = ["a", "b"], ImageSize = 96, RepresentationSize = 16, RoiHeads = new RoiHeadsOptions { ScoreThreshold = 0.2f },
        }, 5);
        DetectionOnnxCheck.Sharpen(model);
        byte[] onnx = DetectionOnnxCheck.Bytes(FasterRcnnOnnxExport.BuildGraph(model));
        DetectionOnnxCheck.AssertDetectionsMatch(model, onnx, DetectionOnnxCheck.Image(6, 80, 96), log, "vgg16");
        Assert.Contains(FasterRcnnOnnxExport.BuildGraph(model).Nodes, n => n.OpType == "MaxPool" && n.Name == "backbone.pool4");
    }

    [Fact]
    public void WhatOnnxCannotExpressIsAClearError()
    {
        var negative = DetectionOnnxCheck.Model(6, rpn: new RpnOptions { NmsThreshold = -0.1f });
        var e = Assert.Throws<OnnxExportException>(() => FasterRcnnOnnxExport.BuildGraph(negative));
        Assert.Equal("rpn", e.LayerPath);
        Assert.Contains("NMS IoU threshold -0.1", e.Message);

        e = Assert.Throws<OnnxExportException>(() => FasterRcnnOnnxExport.BuildGraph(CustomBackbones.Model(new CustomBackbones.Opaque(), RoiPoolerKind.Align)));
        Assert.Equal("backbone", e.LayerPath);
        Assert.Contains("IOnnxExportable", e.Message);

        e = Assert.Throws<OnnxExportException>(() => FasterRcnnOnnxExport.BuildGraph(CustomBackbones.Model(new CustomBackbones.Exportable(), RoiPoolerKind.Pool)));
        Assert.Equal("roi_heads", e.LayerPath);
        Assert.Contains("MaxRoiPool", e.Message);
    }

    [Fact]
    public void ABackboneThatExportsItselfIsUsed()
    {
        var model = CustomBackbones.Model(new CustomBackbones.Exportable(), RoiPoolerKind.Align);
        byte[] onnx = DetectionOnnxCheck.Bytes(FasterRcnnOnnxExport.BuildGraph(model));
        DetectionOnnxCheck.AssertDetectionsMatch(model, onnx, DetectionOnnxCheck.Image(7), log, "custom backbone");
    }
}
