using Backprop.Tests.IO;
using Backprop.Vision;
using SkiaSharp;

namespace Backprop.Tests.Vision;

public class ImageFileTests
{
    [Fact]
    public void NativeSkiaLibraryLoadsAndMatchesTheManagedOne()
    {
        Assert.True(SkiaSharpVersion.CheckNativeLibraryCompatible(throwIfIncompatible: true));
        Assert.Equal(119, SkiaSharpVersion.Native.Major);
    }

    [Fact]
    public void ColorPngDecodesToBgrPlanesInChwOrder()
    {
        using var dir = new TempDirectory();
        string path = dir.File("rgb.png");
        // 2x3: pixel (y, x) has R = 10y + x, G = 100 + x, B = 200 + y.
        TestImages.WritePng(path, 2, 3, (y, x) => new SKColor((byte)(10 * y + x), (byte)(100 + x), (byte)(200 + y)));
        var image = ImageFile.Load(path, color: true);
        Assert.Equal((3, 2, 3), (image.Channels, image.Height, image.Width));
        Assert.Equal(new float[]
        {
            200, 200, 200, 201, 201, 201,   // B
            100, 101, 102, 100, 101, 102,   // G
            0, 1, 2, 10, 11, 12,            // R
        }, image.Pixels);
        Assert.Equal(12f, image[2, 1, 2]);
    }

    [Fact]
    public void AlphaIsDroppedNotBlended()
    {
        using var dir = new TempDirectory();
        string path = dir.File("alpha.png");
        TestImages.WritePng(path, 1, 2, (_, x) => new SKColor(10, 20, 30, (byte)(x == 0 ? 0 : 128)));
        var image = ImageFile.Load(path, color: true);
        Assert.Equal(new float[] { 30, 30, 20, 20, 10, 10 }, image.Pixels);
    }

    [Fact]
    public void GrayscaleUsesOpenCvLuma()
    {
        using var dir = new TempDirectory();
        string path = dir.File("gray.png");
        // 0.299·200 + 0.587·100 + 0.114·50 = 124.2 → 124; 0.299·255 = 76.2 → 76; gray 77 stays 77; white 255.
        var colors = new[] { new SKColor(200, 100, 50), new SKColor(255, 0, 0), new SKColor(77, 77, 77), new SKColor(255, 255, 255) };
        TestImages.WritePng(path, 2, 2, (y, x) => colors[2 * y + x]);
        var image = ImageFile.Load(path, color: false);
        Assert.Equal((1, 2, 2), (image.Channels, image.Height, image.Width));
        Assert.Equal(new float[] { 124, 76, 77, 255 }, image.Pixels);
    }

    [Fact]
    public void JpegDecodesCloseToItsColors()
    {
        using var dir = new TempDirectory();
        string path = dir.File("flat.jpg");
        File.WriteAllBytes(path, TestImages.Encode(16, 16, (_, _) => new SKColor(200, 120, 40), SKEncodedImageFormat.Jpeg, 100));
        var image = ImageFile.Load(path, color: true);
        Assert.Equal((3, 16, 16), (image.Channels, image.Height, image.Width));
        float[] expected = [40, 120, 200];   // B, G, R
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 256; i++)
                Assert.InRange(image.Pixels[c * 256 + i], expected[c] - 3, expected[c] + 3);
    }

    [Fact]
    public void MissingFileIsFileNotFoundNamingIt()
    {
        using var dir = new TempDirectory();
        string path = dir.File("nope.png");
        var e = Assert.Throws<FileNotFoundException>(() => ImageFile.Load(path, true));
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.FileName);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("text")]
    [InlineData("truncated")]
    [InlineData("badheader")]
    public void CorruptFilesAreInvalidDataNamingTheFile(string kind)
    {
        using var dir = new TempDirectory();
        string path = dir.File(kind + ".png");
        byte[] png = TestImages.Encode(32, 32, (y, x) => new SKColor((byte)(x * 8), (byte)(y * 8), (byte)(x ^ y)));
        byte[] bytes = kind switch
        {
            "empty" => [],
            "text" => "this is not an image, just text"u8.ToArray(),
            "truncated" => png[..(png.Length / 2)],
            _ => [.. png[..8], .. new byte[64]],   // PNG signature, then garbage instead of the IHDR chunk
        };
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Load(path, true));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ImageChecksItsPixelCount()
    {
        Assert.Throws<ArgumentException>(() => new Image(3, 2, 2, new float[11]));
        Assert.Equal("Image(3x2x2)", new Image(3, 2, 2).ToString());
        Assert.Equal(new Shape(1, 2, 3), new Image(1, 2, 3).ToTensor().Shape);
    }
}
