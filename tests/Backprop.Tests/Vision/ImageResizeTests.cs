using Backprop.Vision;

namespace Backprop.Tests.Vision;

public class ImageResizeTests
{
    [Fact]
    public void UpscalingTwoByTwoToFourByFourMatchesHandValues()
    {
        // Output column x samples source column (x + 0.5)·0.5 − 0.5 = −0.25, 0.25, 0.75, 1.25, clamped to
        // [0, 1]: weights on the right pixel 0, 0.25, 0.75, 1. Rows likewise. (cv2.resize gives the same.)
        var image = new Image(1, 2, 2, [0, 10, 20, 30]);
        var resized = ImageResize.Bilinear(image, 4, 4);
        Assert.Equal((1, 4, 4), (resized.Channels, resized.Height, resized.Width));
        Assert.Equal(new float[]
        {
            0, 2.5f, 7.5f, 10,
            5, 7.5f, 12.5f, 15,
            15, 17.5f, 22.5f, 25,
            20, 22.5f, 27.5f, 30,
        }, resized.Pixels);
    }

    [Fact]
    public void HalvingAveragesPairs()
    {
        // Columns 0.5 and 2.5: halfway between 0 and 10, and between 20 and 40.
        var resized = ImageResize.Bilinear(new Image(1, 1, 4, [0, 10, 20, 40]), 1, 2);
        Assert.Equal(new float[] { 5, 30 }, resized.Pixels);
    }

    [Fact]
    public void NonIntegerScaleMatchesHandValues()
    {
        // Width 3 → 2: scale 1.5, source columns 0.25 and 1.75: 0.75·0 + 0.25·30 = 7.5 and 0.25·30 + 0.75·60 = 52.5.
        // Height 1 → 3: every row samples the single source row.
        var resized = ImageResize.Bilinear(new Image(1, 1, 3, [0, 30, 60]), 3, 2);
        Assert.Equal(new float[] { 7.5f, 52.5f, 7.5f, 52.5f, 7.5f, 52.5f }, resized.Pixels);
    }

    [Fact]
    public void ChannelsAreResizedIndependentlyAndSameSizeIsIdentity()
    {
        var image = new Image(2, 2, 2, [0, 10, 20, 30, 100, 110, 120, 130]);
        var resized = ImageResize.Bilinear(image, 4, 4);
        for (int i = 0; i < 16; i++) Assert.Equal(resized.Pixels[i] + 100, resized.Pixels[16 + i]);
        Assert.Equal(image.Pixels, ImageResize.Bilinear(image, 2, 2).Pixels);
    }

    [Fact]
    public void SizesMustBePositive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageResize.Bilinear(new Image(1, 2, 2), 0, 2));
    }
}
