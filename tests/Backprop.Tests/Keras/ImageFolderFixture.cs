using Backprop.Vision;

namespace Backprop.Tests.Keras;

/// <summary>
/// A temporary folder of class folders written with the project's own encoder: "cats" dark images, "dogs" bright
/// ones (a left-to-right ramp on top, so a flip is visible), half PNG half JPEG, 12×10 pixels.
/// </summary>
internal sealed class ImageFolderFixture : IDisposable
{
    public ImageFolderFixture(int perClass = 10, int seed = 0, bool corrupt = false)
    {
        Root = Path.Combine(Path.GetTempPath(), "backprop-images-" + Guid.NewGuid().ToString("N"));
        var g = new Generator((ulong)seed + 1);
        string[] classes = ["cats", "dogs"];
        for (int c = 0; c < classes.Length; c++)
        {
            string folder = Path.Combine(Root, classes[c]);
            Directory.CreateDirectory(folder);
            for (int i = 0; i < perClass; i++)
            {
                var image = new Image(3, 12, 10);
                for (int ch = 0; ch < 3; ch++)
                    for (int y = 0; y < 12; y++)
                        for (int x = 0; x < 10; x++)
                            image[ch, y, x] = (c == 0 ? 30 : 190) + 5 * x + 10 * g.NextFloat();
                string format = i % 2 == 0 ? "png" : "jpg";
                File.WriteAllBytes(Path.Combine(folder, $"{classes[c]}{i:00}.{format}"), ImageEncoding.Encode(image, format));
            }
        }
        if (corrupt) File.WriteAllBytes(Path.Combine(Root, "dogs", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
    }

    public string Root { get; }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
