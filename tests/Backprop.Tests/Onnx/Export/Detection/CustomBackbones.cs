using Backprop.Detection;
using Backprop.Nn;
using Backprop.Onnx;

namespace Backprop.Tests.Onnx.Export.Detection;

/// <summary>Hand-assembled detectors on backbones other than the built-in ones: one the exporter cannot read, one that exports itself.</summary>
internal static class CustomBackbones
{
    public static FasterRcnn Model(Backbone backbone, RoiPoolerKind pooler)
    {
        var g = new Generator(8);
        var anchors = new AnchorGenerator([32f, 64f], [0.5f, 1f, 2f]);
        var rpn = new RegionProposalNetwork(new RpnHead(backbone.OutChannels, anchors.AnchorsPerLocation, 8, g), anchors, 16);
        var heads = new RoiHeads(backbone.OutChannels, 16, 2, 16, new RoiHeadsOptions { Pooler = pooler, ScoreThreshold = 0.2f }, g);
        return DetectionOnnxCheck.Sharpen(new FasterRcnn(backbone, rpn, heads));
    }

    /// <summary>One 16x16 convolution at stride 16 (features may be negative); Forward is code the exporter cannot read.</summary>
    public class Opaque : Backbone
    {
        public Opaque() => Conv = RegisterModule("conv", new Conv2d(3, 4, 16, stride: 16, generator: new Generator(9)));

        public Conv2d Conv { get; }
        public override int OutChannels => 4;
        public override int FeatureStride => 16;
        public override string Name => "custom";
        public override (int Height, int Width) FeatureSize(int height, int width) => (height / 16, width / 16);
        public override Tensor Forward(Tensor input) => Conv.Forward(input);
    }

    /// <summary>The same backbone, writing its own ONNX node.</summary>
    public sealed class Exportable : Opaque, IOnnxExportable
    {
        public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input) => context.Export(Conv, input);
    }
}
