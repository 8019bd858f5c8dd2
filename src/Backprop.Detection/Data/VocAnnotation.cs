using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Backprop.Detection;

/// <summary>
/// A box as PASCAL VOC writes it: 1-based, inclusive pixel indices, so a box covering pixel columns 1..10 has
/// <c>XMin = 1, XMax = 10</c> and is 10 pixels wide. Coordinates are floats because some VOC-style datasets write
/// fractions.
/// </summary>
public readonly record struct VocBox(float XMin, float YMin, float XMax, float YMax);

/// <summary>One <c>&lt;object&gt;</c> of a VOC annotation.</summary>
public sealed record VocObject(string Name, VocBox Box, bool Difficult, bool Truncated);

/// <summary>
/// One PASCAL VOC annotation file (<c>Annotations/{id}.xml</c>): the image's file name and size and its objects.
/// Read defensively: DTDs are refused (no entity expansion, no external fetches), the document is capped at
/// <see cref="MaxCharacters"/>, and every number is checked, so a malformed or hostile file gives an
/// <see cref="InvalidDataException"/> that names the file (and the object's index), never a crash or a huge allocation.
/// </summary>
public sealed class VocAnnotation
{
    /// <summary>
    /// Largest annotation read, in characters (512 Ki). VOC's are a few kilobytes and a thousand objects take about
    /// 150 KB; the XML tree costs some 25 bytes per character of a file of tiny elements, so the cap bounds that too.
    /// </summary>
    public const long MaxCharacters = 512L << 10;

    /// <summary>Largest image side accepted (65535, JPEG's limit).</summary>
    public const int MaxSide = 65535;

    /// <summary>
    /// How far a box may reach outside the image before the file is refused: 10% of the side plus 2 pixels.
    /// VOC itself has boxes a pixel outside (xmin = 0); datasets converted from other formats overshoot a little more.
    /// </summary>
    public const double OutsideTolerance = 0.1;

    public VocAnnotation(string filename, int width, int height, IReadOnlyList<VocObject> objects)
    {
        ArgumentNullException.ThrowIfNull(filename);
        ArgumentNullException.ThrowIfNull(objects);
        Filename = filename;
        Width = width;
        Height = height;
        Objects = objects;
    }

    /// <summary>The image's file name as written in <c>&lt;filename&gt;</c> ("" when absent).</summary>
    public string Filename { get; }

    /// <summary>Image width in pixels, from <c>&lt;size&gt;</c>.</summary>
    public int Width { get; }

    /// <summary>Image height in pixels, from <c>&lt;size&gt;</c>.</summary>
    public int Height { get; }

    /// <summary>The objects in file order.</summary>
    public IReadOnlyList<VocObject> Objects { get; }

    /// <summary>Reads the annotation file at <paramref name="xmlPath"/>.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="xmlPath"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not well-formed XML or not a valid VOC annotation.</exception>
    public static VocAnnotation Parse(string xmlPath)
    {
        ArgumentNullException.ThrowIfNull(xmlPath);
        if (!File.Exists(xmlPath)) throw new FileNotFoundException($"VOC annotation {xmlPath} does not exist.", xmlPath);
        try
        {
            using var reader = new StreamReader(xmlPath);
            return Parse(reader, xmlPath);
        }
        catch (Exception e) when (e is IOException and not FileNotFoundException || e is UnauthorizedAccessException)
        {
            throw new InvalidDataException($"VOC annotation {xmlPath} cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Reads an annotation from <paramref name="reader"/>; <paramref name="name"/> names it in errors.</summary>
    public static VocAnnotation Parse(TextReader reader, string name)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(name);
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxCharacters,
            MaxCharactersFromEntities = 0,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
        };
        XDocument document;
        try
        {
            using var xml = XmlReader.Create(reader, settings);
            document = XDocument.Load(xml);
        }
        catch (XmlException e)
        {
            throw new InvalidDataException($"VOC annotation {name} is not well-formed XML (line {e.LineNumber}, column {e.LinePosition}): {ShortenMessage(e.Message)}", e);
        }
        return FromDocument(document, name);
    }

    /// <summary>The parser's message, cut after 200 characters: it can quote a name thousands of characters long.</summary>
    private static string ShortenMessage(string message) =>
        message.Length <= 200 ? message : string.Concat(message.AsSpan(0, 200), $"… ({message.Length} characters)");

    /// <summary>Reads an annotation held in a string; <paramref name="name"/> names it in errors.</summary>
    public static VocAnnotation ParseXml(string xml, string name)
    {
        ArgumentNullException.ThrowIfNull(xml);
        using var reader = new StringReader(xml);
        return Parse(reader, name);
    }

    private static VocAnnotation FromDocument(XDocument document, string name)
    {
        var root = document.Root!;
        if (root.Name.LocalName != "annotation")
            throw new InvalidDataException($"VOC annotation {name}: the root element is <{root.Name.LocalName}>, expected <annotation>.");
        string filename = root.Element("filename")?.Value.Trim() ?? "";

        var size = root.Element("size") ?? throw new InvalidDataException($"VOC annotation {name} has no <size> element.");
        int width = ReadInt(size, "width", name, "size");
        int height = ReadInt(size, "height", name, "size");
        if (width < 1 || height < 1 || width > MaxSide || height > MaxSide)
            throw new InvalidDataException($"VOC annotation {name}: image size {width}x{height} is not between 1 and {MaxSide} pixels per side.");

        var objects = new List<VocObject>();
        int index = 0;
        foreach (var element in root.Elements("object"))
        {
            objects.Add(ReadObject(element, name, index, width, height));
            index++;
        }
        return new VocAnnotation(filename, width, height, objects);
    }

    private static VocObject ReadObject(XElement element, string name, int index, int width, int height)
    {
        string where = $"object {index}";
        string objectName = element.Element("name")?.Value.Trim() ?? "";
        if (objectName.Length == 0) throw new InvalidDataException($"VOC annotation {name}: {where} has no <name>.");
        where = $"object {index} ('{objectName}')";
        bool difficult = ReadFlag(element, "difficult", name, where);
        bool truncated = ReadFlag(element, "truncated", name, where);

        var box = element.Element("bndbox") ?? throw new InvalidDataException($"VOC annotation {name}: {where} has no <bndbox>.");
        float xMin = ReadCoordinate(box, "xmin", name, where), yMin = ReadCoordinate(box, "ymin", name, where);
        float xMax = ReadCoordinate(box, "xmax", name, where), yMax = ReadCoordinate(box, "ymax", name, where);
        if (xMax < xMin || yMax < yMin)
            throw new InvalidDataException($"VOC annotation {name}: {where} has an inverted box ({xMin}, {yMin}, {xMax}, {yMax}): xmax < xmin or ymax < ymin.");
        double slackX = OutsideTolerance * width + 2, slackY = OutsideTolerance * height + 2;
        if (xMin < 1 - slackX || yMin < 1 - slackY || xMax > width + slackX || yMax > height + slackY)
            throw new InvalidDataException($"VOC annotation {name}: {where} box ({xMin}, {yMin}, {xMax}, {yMax}) lies far outside the {width}x{height} image.");
        return new VocObject(objectName, new VocBox(xMin, yMin, xMax, yMax), difficult, truncated);
    }

    private static string ReadText(XElement parent, string field, string name, string where) =>
        parent.Element(field)?.Value.Trim() ?? throw new InvalidDataException($"VOC annotation {name}: {where} has no <{field}>.");

    private static int ReadInt(XElement parent, string field, string name, string where)
    {
        string text = ReadText(parent, field, name, where);
        // Some tools write sizes as "500.0"; accept a whole number in either form.
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value != Math.Floor(value) || Math.Abs(value) > int.MaxValue)
            throw new InvalidDataException($"VOC annotation {name}: {where} <{field}> is '{Shorten(text)}', not a whole number.");
        return (int)value;
    }

    private static float ReadCoordinate(XElement parent, string field, string name, string where)
    {
        string text = ReadText(parent, field, name, where);
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
            throw new InvalidDataException($"VOC annotation {name}: {where} <{field}> is '{Shorten(text)}', not a finite number.");
        return value;
    }

    /// <summary>An optional 0/1 flag (absent means 0, as py-faster-rcnn reads it).</summary>
    private static bool ReadFlag(XElement parent, string field, string name, string where)
    {
        var element = parent.Element(field);
        if (element is null) return false;
        return element.Value.Trim() switch
        {
            "0" => false,
            "1" => true,
            var text => throw new InvalidDataException($"VOC annotation {name}: {where} <{field}> is '{Shorten(text)}', expected 0 or 1."),
        };
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    public override string ToString() => $"VocAnnotation({Filename}, {Width}x{Height}, {Objects.Count} objects)";
}
