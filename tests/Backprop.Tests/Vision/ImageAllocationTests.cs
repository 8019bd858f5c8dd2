using Backprop.Vision;

namespace Backprop.Tests.Vision;

/// <summary>Images whose headers claim more than the limit or than the file holds are refused before their pixels are allocated.</summary>
public sealed class ImageAllocationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("backprop-images-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void TinyBmpClaimingOver100MegapixelsIsRefusedByThePixelLimit()
    {
        string path = Write("huge.bmp", HostileImages.Bmp24(11000, 11000, new byte[576]));   // 630 bytes
        var (e, bytes) = ThreadAllocations.Throws<InvalidDataException>(() => ImageFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("11000x11000 = 121000000 pixels, more than the limit of 33554432", e.Message);
        Assert.Contains("ImageFile.MaxPixels", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(630), $"allocated {bytes} bytes for a 630-byte file");
    }

    [Fact]
    public void UncompressedBmpClaimingMoreRowsThanItHoldsIsRefused()
    {
        // 5000 x 5000 is under the pixel limit, but its rows need 75 MB and the file holds 576 bytes of them.
        string path = Write("short.bmp", HostileImages.Bmp24(5000, 5000, new byte[576]));
        var (e, bytes) = ThreadAllocations.Throws<InvalidDataException>(() => ImageFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("declares 5000x5000 pixels of 24 bits (75000000 bytes of rows) but holds only 576 bytes", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(630), $"allocated {bytes} bytes for a 630-byte file");
    }

    [Fact]
    public void SmallUncompressedBmpStillDecodes()
    {
        // 3 x 2, 24-bit: rows of 9 bytes padded to 12, bottom row first, pixels in B, G, R order.
        byte[] rows =
        [
            10, 20, 30, 11, 21, 31, 12, 22, 32, 0, 0, 0,   // bottom row (y = 1)
            40, 50, 60, 41, 51, 61, 42, 52, 62, 0, 0, 0,   // top row (y = 0)
        ];
        var image = ImageFile.Load(Write("small.bmp", HostileImages.Bmp24(3, 2, rows)));
        Assert.Equal((3, 2, 3), (image.Channels, image.Height, image.Width));
        Assert.Equal([40f, 41, 42, 10, 11, 12], image.Pixels.AsSpan(0, 6).ToArray());   // the B plane, top row first
        Assert.Equal([60f, 61, 62, 30, 31, 32], image.Pixels.AsSpan(12, 6).ToArray());  // the R plane
    }

    [Fact]
    public void CompressedPngOverThePixelLimitIsRefusedBeforeDecoding()
    {
        string path = Write("bomb.png", HostileImages.PngGray(10000, 10000, rows: 10));
        long size = new FileInfo(path).Length;
        var (e, bytes) = ThreadAllocations.Throws<InvalidDataException>(() => ImageFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("10000x10000 = 100000000 pixels, more than the limit", e.Message);
        Assert.True(bytes < ThreadAllocations.Bound(size), $"allocated {bytes} bytes for a {size}-byte file");
    }

    [Fact]
    public void MaxPixelsRefusesValuesThatCannotWork()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFile.MaxPixels = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFile.MaxPixels = Array.MaxLength);
        Assert.Equal(ImageFile.DefaultMaxPixels, ImageFile.MaxPixels);
    }
}

/// <summary>Changes the process-wide <see cref="ImageFile.MaxPixels"/>, so it runs alone.</summary>
[CollectionDefinition("ImageMaxPixels", DisableParallelization = true)]
public sealed class ImageMaxPixelsCollection;

[Collection("ImageMaxPixels")]
public sealed class ImageMaxPixelsTests
{
    [Fact]
    public void TheLimitIsConfigurable()
    {
        string path = Path.Combine(Path.GetTempPath(), $"backprop-limit-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, HostileImages.PngGray(4, 3, rows: 3));
        try
        {
            ImageFile.MaxPixels = 11;
            var e = Assert.Throws<InvalidDataException>(() => ImageFile.Load(path));
            Assert.Contains("4x3 = 12 pixels, more than the limit of 11", e.Message);
            ImageFile.MaxPixels = 12;
            Assert.Equal(12, ImageFile.Load(path, color: false).Pixels.Length);
        }
        finally
        {
            ImageFile.MaxPixels = ImageFile.DefaultMaxPixels;
            File.Delete(path);
        }
    }
}
