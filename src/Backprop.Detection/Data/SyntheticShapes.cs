using System.Globalization;
using System.Text;
using System.Xml;
using Backprop.Vision;
using SkiaSharp;

namespace Backprop.Detection;

/// <summary>
/// A seeded generator of a small detection dataset in PASCAL VOC layout: filled circles, squares, triangles and
/// crosses in saturated colours, 1–4 per image, on cluttered backgrounds (a colour gradient, soft blobs, thin lines
/// and pixel noise, none of them objects). A small CNN detector trained from scratch can learn it, which makes it the
/// detection pipeline's end-to-end check.
/// <para>
/// Objects measure about 22–110 pixels at 224 × 224 (sizes scale with the image); about one in eight is tiny
/// (10–19 pixels) and marked difficult, as is any object whose visible box is under 20 pixels on its longer side.
/// Objects may overlap, but two boxes never have IoU ≥ 0.5 or share more than 30% of the smaller box. An object may
/// run off the border (at most 40% of it hidden): its box is clipped to the image and it is marked truncated.
/// A box is the 1-based inclusive pixel range (VOC's convention) of the pixels the shape covers by at least half.
/// </para>
/// Every image comes from its own generator seeded by (seed, index), and shapes are rasterized in managed code rather
/// than by a native rasterizer whose anti-aliasing may take CPU-specific SIMD paths, so a seed gives the same images
/// and annotations bit for bit (given the same runtime math library for sin, cos and exp).
/// </summary>
public static class SyntheticShapes
{
    /// <summary>The classes, in label order (label k + 1 is <c>ClassNames[k]</c>).</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["circle", "square", "triangle", "cross"];

    /// <summary>JPEG quality of the written images.</summary>
    public const int JpegQuality = 95;

    /// <summary>
    /// Writes <paramref name="trainCount"/> + <paramref name="testCount"/> images under <paramref name="root"/>:
    /// <c>JPEGImages/{id}.jpg</c>, <c>Annotations/{id}.xml</c>, <c>ImageSets/Main/trainval.txt</c> and <c>test.txt</c>,
    /// and <c>classes.txt</c>. Ids are 000000, 000001, ... (training images first). Each file is written to a temporary
    /// name and renamed into place; other files under <paramref name="root"/> are left alone.
    /// </summary>
    public static void WriteVoc(string root, int trainCount, int testCount, ulong seed, int imageSize = 224)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentOutOfRangeException.ThrowIfNegative(trainCount);
        ArgumentOutOfRangeException.ThrowIfNegative(testCount);
        CheckSize(imageSize);
        string images = Path.Combine(root, "JPEGImages"), annotations = Path.Combine(root, "Annotations"), sets = Path.Combine(root, "ImageSets", "Main");
        Directory.CreateDirectory(images);
        Directory.CreateDirectory(annotations);
        Directory.CreateDirectory(sets);

        var ids = new string[trainCount + testCount];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = i.ToString("D6", CultureInfo.InvariantCulture);
            var (image, objects) = Generate(seed, i, imageSize);
            WriteAtomically(Path.Combine(images, ids[i] + ".jpg"), EncodeJpeg(image));
            WriteAtomically(Path.Combine(annotations, ids[i] + ".xml"), AnnotationXml(ids[i] + ".jpg", imageSize, objects));
        }
        WriteAtomically(Path.Combine(sets, "trainval.txt"), Lines(ids.Take(trainCount)));
        WriteAtomically(Path.Combine(sets, "test.txt"), Lines(ids.Skip(trainCount)));
        WriteAtomically(Path.Combine(root, "classes.txt"), Lines(ClassNames));
    }

    /// <summary>
    /// Image <paramref name="index"/> of the set for <paramref name="seed"/>, as <see cref="WriteVoc"/> draws it before
    /// JPEG encoding: RGB, values k / 255 in [0, 1], and its objects with VOC boxes.
    /// </summary>
    public static (Image Image, IReadOnlyList<VocObject> Objects) Generate(ulong seed, int index, int imageSize = 224)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        CheckSize(imageSize);
        var generator = new Generator(seed ^ ((ulong)index + 1) * 0x9E3779B97F4A7C15UL);
        var scene = new ShapeScene(imageSize, generator);
        var objects = scene.Draw();
        return (scene.ToImage(), objects);
    }

    private static void CheckSize(int imageSize)
    {
        if (imageSize < 64 || imageSize > 4096)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "SyntheticShapes draws square images of 64 to 4096 pixels.");
    }

    private static byte[] EncodeJpeg(Image image)
    {
        int w = image.Width, h = image.Height, plane = w * h;
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var bytes = bitmap.GetPixelSpan();
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++) bytes[4 * i + c] = (byte)MathF.Round(image.Pixels[c * plane + i] * 255f);
            bytes[4 * i + 3] = 255;
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, JpegQuality) ?? throw new InvalidOperationException("SkiaSharp could not encode a JPEG.");
        return data.ToArray();
    }

    private static byte[] AnnotationXml(string filename, int imageSize, IReadOnlyList<VocObject> objects)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), OmitXmlDeclaration = true };
        using var stream = new MemoryStream();
        using (var xml = XmlWriter.Create(stream, settings))
        {
            xml.WriteStartElement("annotation");
            xml.WriteElementString("folder", "SyntheticShapes");
            xml.WriteElementString("filename", filename);
            xml.WriteStartElement("size");
            xml.WriteElementString("width", Number(imageSize));
            xml.WriteElementString("height", Number(imageSize));
            xml.WriteElementString("depth", "3");
            xml.WriteEndElement();
            xml.WriteElementString("segmented", "0");
            foreach (var o in objects)
            {
                xml.WriteStartElement("object");
                xml.WriteElementString("name", o.Name);
                xml.WriteElementString("pose", "Unspecified");
                xml.WriteElementString("truncated", o.Truncated ? "1" : "0");
                xml.WriteElementString("difficult", o.Difficult ? "1" : "0");
                xml.WriteStartElement("bndbox");
                xml.WriteElementString("xmin", Number(o.Box.XMin));
                xml.WriteElementString("ymin", Number(o.Box.YMin));
                xml.WriteElementString("xmax", Number(o.Box.XMax));
                xml.WriteElementString("ymax", Number(o.Box.YMax));
                xml.WriteEndElement();
                xml.WriteEndElement();
            }
            xml.WriteEndElement();
        }
        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    private static string Number(float value) => ((int)value).ToString(CultureInfo.InvariantCulture);

    private static byte[] Lines(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));

    private static void WriteAtomically(string path, byte[] bytes)
    {
        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }
}
