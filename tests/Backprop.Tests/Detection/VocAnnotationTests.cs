using Backprop.Detection;
using Backprop.Tests.IO;

namespace Backprop.Tests.Detection;

public class VocAnnotationTests
{
    internal static string Xml(int width, int height, params string[] objects) =>
        $"<annotation><folder>VOC2007</folder><filename>000005.jpg</filename><size><width>{width}</width><height>{height}</height><depth>3</depth></size>"
        + string.Concat(objects) + "</annotation>";

    internal static string Object(string name, string xmin, string ymin, string xmax, string ymax, string? difficult = "0", string? truncated = "0") =>
        $"<object><name>{name}</name><pose>Left</pose>"
        + (truncated is null ? "" : $"<truncated>{truncated}</truncated>")
        + (difficult is null ? "" : $"<difficult>{difficult}</difficult>")
        + $"<bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox></object>";

    [Fact]
    public void ReadsSizeFilenameAndObjectsInFileOrder()
    {
        string xml = Xml(500, 375,
            Object(" chair ", "263", "211", "324", "339", difficult: "0", truncated: "1"),
            Object("person", "5.5", "1", "500", "375", difficult: "1", truncated: null),
            Object("dog", "0", "10", "20", "30", difficult: null, truncated: "0"));
        var a = VocAnnotation.ParseXml(xml, "000005.xml");
        Assert.Equal("000005.jpg", a.Filename);
        Assert.Equal((500, 375), (a.Width, a.Height));
        Assert.Equal(3, a.Objects.Count);
        Assert.Equal(new VocObject("chair", new VocBox(263, 211, 324, 339), Difficult: false, Truncated: true), a.Objects[0]);
        Assert.Equal(new VocObject("person", new VocBox(5.5f, 1, 500, 375), Difficult: true, Truncated: false), a.Objects[1]);
        // xmin = 0 (a pixel outside, which VOC itself has) is accepted; a missing <difficult> means 0.
        Assert.Equal(new VocObject("dog", new VocBox(0, 10, 20, 30), false, false), a.Objects[2]);
    }

    [Fact]
    public void ParseFromPathNamesTheFileInErrors()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.xml");
        File.WriteAllText(path, Xml(100, 100, Object("cat", "1", "1", "10", "10"), Object("cat", "1", "1", "x10", "10")));
        var e = Assert.Throws<InvalidDataException>(() => VocAnnotation.Parse(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("object 1", e.Message);
        Assert.Contains("xmax", e.Message);
        Assert.Throws<FileNotFoundException>(() => VocAnnotation.Parse(dir.File("missing.xml")));
    }

    [Theory]
    [InlineData("<annotation><size><width>10</width>", "not well-formed")]
    [InlineData("<root/>", "<annotation>")]
    [InlineData("<annotation><filename>a.jpg</filename></annotation>", "<size>")]
    public void MalformedDocumentsAreRefused(string xml, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => VocAnnotation.ParseXml(xml, "a.xml"));
        Assert.Contains("a.xml", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void DtdsAreRefusedSoEntitiesCannotExpandOrFetch()
    {
        string laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
            + "<annotation><filename>&lol2;</filename></annotation>";
        Assert.Throws<InvalidDataException>(() => VocAnnotation.ParseXml(laughs, "lol.xml"));
        string external = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><annotation><filename>&x;</filename></annotation>";
        Assert.Throws<InvalidDataException>(() => VocAnnotation.ParseXml(external, "x.xml"));
    }

    [Theory]
    [InlineData("0", "375")]
    [InlineData("500", "-1")]
    [InlineData("70000", "375")]
    [InlineData("500.5", "375")]
    [InlineData("wide", "375")]
    public void AbsurdOrNonNumericSizesAreRefused(string width, string height)
    {
        string xml = $"<annotation><size><width>{width}</width><height>{height}</height></size></annotation>";
        var e = Assert.Throws<InvalidDataException>(() => VocAnnotation.ParseXml(xml, "size.xml"));
        Assert.Contains("size.xml", e.Message);
    }

    [Theory]
    [InlineData("20", "1", "10", "10", "inverted")]              // xmax < xmin
    [InlineData("1", "20", "10", "10", "inverted")]              // ymax < ymin
    [InlineData("1", "1", "200", "10", "far outside")]           // 100 px wide image: 200 is 98 px past the edge
    [InlineData("-30", "1", "10", "10", "far outside")]
    [InlineData("1", "1", "NaN", "10", "not a finite number")]
    [InlineData("1", "1", "", "10", "not a finite number")]
    public void BadBoxesNameTheFileAndObject(string xmin, string ymin, string xmax, string ymax, string expected)
    {
        string xml = Xml(100, 50, Object("cat", "1", "1", "5", "5"), Object("dog", xmin, ymin, xmax, ymax));
        var e = Assert.Throws<InvalidDataException>(() => VocAnnotation.ParseXml(xml, "boxes.xml"));
        Assert.Contains("boxes.xml", e.Message);
        Assert.Contains("object 1 ('dog')", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void BoxesSlightlyOutsideAreKept()
    {
        // Tolerance: 10% of the side plus 2 pixels (100 px wide: up to 112).
        var a = VocAnnotation.ParseXml(Xml(100, 50, Object("cat", "-5", "1", "111", "50")), "ok.xml");
        Assert.Equal(new VocBox(-5, 1, 111, 50), a.Objects[0].Box);
    }

    [Theory]
    [InlineData("<object><pose>Left</pose><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object>", "no <name>")]
    [InlineData("<object><name>cat</name></object>", "no <bndbox>")]
    [InlineData("<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax></bndbox></object>", "no <ymax>")]
    [InlineData("<object><name>cat</name><difficult>2</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object>", "expected 0 or 1")]
    public void MissingOrBadObjectFieldsAreRefused(string objectXml, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => VocAnnotation.ParseXml(Xml(10, 10, objectXml), "f.xml"));
        Assert.Contains("f.xml: object 0", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
