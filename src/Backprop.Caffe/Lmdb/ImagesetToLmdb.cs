using System.Globalization;
using System.Text;
using Backprop.Caffe.Proto;
using Backprop.Vision;
using Google.Protobuf;

namespace Backprop.Caffe.Lmdb;

/// <summary>Settings of <see cref="ImagesetToLmdb.Convert"/>, named after Caffe's convert_imageset flags.</summary>
public sealed record ImagesetOptions
{
    /// <summary>Resize every image to this height (with <see cref="ResizeWidth"/>; both 0: keep the size).</summary>
    public int ResizeHeight { get; init; }

    /// <summary>Resize every image to this width (with <see cref="ResizeHeight"/>).</summary>
    public int ResizeWidth { get; init; }

    /// <summary>Store one gray channel instead of B, G, R.</summary>
    public bool Gray { get; init; }

    /// <summary>Write the images in a random order (drawn from <see cref="Seed"/>).</summary>
    public bool Shuffle { get; init; }

    /// <summary>The seed of the shuffle: the same seed, the same order.</summary>
    public ulong Seed { get; init; }

    /// <summary>Store encoded images (the file itself when it needs no change, else re-encoded as <see cref="EncodeType"/>).</summary>
    public bool Encoded { get; init; }

    /// <summary>png or jpg; empty: each file's own extension. Setting it implies <see cref="Encoded"/>, as in Caffe.</summary>
    public string EncodeType { get; init; } = "";

    /// <summary>Refuse an image whose stored size differs from the first one's.</summary>
    public bool CheckSize { get; init; }

    /// <summary>Replace an existing database directory (one holding only the backend's own files).</summary>
    public bool Overwrite { get; init; }

    /// <summary>The database format written (Caffe's <c>--backend</c>): LMDB (the default) or LEVELDB, with the same keys and records.</summary>
    public DataParameter.Types.DB Backend { get; init; } = DataParameter.Types.DB.Lmdb;
}

/// <summary>What <see cref="ImagesetToLmdb.Convert"/> wrote, and the list lines whose image could not be read (skipped, as Caffe does).</summary>
public sealed record ImagesetResult(int Written, IReadOnlyList<string> Skipped);

/// <summary>
/// Caffe's convert_imageset: a list file of <c>path label</c> lines (the label after the last space) over a root
/// folder becomes an LMDB (or LevelDB, <see cref="ImagesetOptions.Backend"/>) database of Datum records, keyed <c>{line:D8}_{path}</c> as Caffe keys them. Raw records
/// hold the decoded image, (C, H, W) bytes in B, G, R order (or one gray channel), optionally resized (bilinear);
/// encoded records hold PNG/JPEG bytes that the Data layer decodes.
/// </summary>
/// <remarks>
/// Caffe stores a file unchanged in encoded mode when no resize is asked and its extension is the encode type; Backprop
/// also requires its channel count to be the one asked for (Caffe would store a colour file under --gray).
/// </remarks>
public static class ImagesetToLmdb
{
    /// <summary>Reads a list file: one <c>path label</c> per line; blank lines are skipped.</summary>
    /// <exception cref="InvalidDataException">A line has no label, or a label that is not an integer; the message names the file and line.</exception>
    public static IReadOnlyList<(string Path, int Label)> ReadList(string listFile)
    {
        ArgumentNullException.ThrowIfNull(listFile);
        if (!File.Exists(listFile)) throw new FileNotFoundException($"The image list {listFile} does not exist.", listFile);
        var entries = new List<(string, int)>();
        int number = 0;
        foreach (string raw in File.ReadLines(listFile))
        {
            number++;
            string line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            int space = line.LastIndexOf(' ');
            if (space <= 0 || !int.TryParse(line.AsSpan(space + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out int label))
                throw new InvalidDataException($"{listFile}:{number}: expected 'path label' (an image path, a space, an integer label), got '{line}'.");
            entries.Add((line[..space], label));
        }
        return entries;
    }

    /// <summary>Converts the images named by <paramref name="listFile"/> (paths relative to <paramref name="rootFolder"/>).</summary>
    /// <param name="log">Hears Caffe's progress lines and one line per skipped image.</param>
    public static ImagesetResult Convert(string rootFolder, string listFile, string outputDirectory, ImagesetOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(rootFolder);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentNullException.ThrowIfNull(options);
        if (options.ResizeHeight < 0 || options.ResizeWidth < 0)
            throw new ArgumentException($"Resize sizes cannot be negative (height {options.ResizeHeight}, width {options.ResizeWidth}).");
        string encodeType = options.EncodeType.ToLowerInvariant();
        if (encodeType.Length > 0 && !ImageEncoding.Formats.Contains(encodeType))
            throw new ArgumentException($"--encode_type must be one of {string.Join(", ", ImageEncoding.Formats)}, got '{options.EncodeType}'.");
        bool encoded = options.Encoded || encodeType.Length > 0;
        bool lmdb = options.Backend switch
        {
            DataParameter.Types.DB.Lmdb => true,
            DataParameter.Types.DB.Leveldb => false,
            _ => throw new ArgumentException($"The backend must be LMDB or LEVELDB, got {options.Backend}."),
        };
        string output = Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar);
        if (lmdb) ImagesToLmdb.CheckOutput(output, options.Overwrite);   // before the reading
        else LevelDb.ImagesToLevelDb.CheckOutput(output, options.Overwrite);

        var lines = ReadList(listFile).ToArray();
        if (options.Shuffle)
        {
            log?.Invoke("Shuffling data");
            var random = new Generator(options.Seed);
            for (int i = lines.Length - 1; i > 0; i--)
            {
                int j = random.NextInt(i + 1);
                (lines[i], lines[j]) = (lines[j], lines[i]);
            }
        }
        log?.Invoke($"A total of {lines.Length} images.");

        var skipped = new List<string>();
        int written = 0;
        long firstSize = -1;
        using IPendingDatabase database = lmdb ? PendingLmdb.Begin(outputDirectory, options.Overwrite) : LevelDb.PendingLevelDb.Begin(outputDirectory, options.Overwrite);
        for (int id = 0; id < lines.Length; id++)
        {
            var (relative, label) = lines[id];
            string file = Path.Combine(rootFolder, relative);
            Datum datum;
            try { datum = ReadDatum(file, label, options, encoded, encodeType); }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                log?.Invoke($"Could not open or find file {file}: {e.Message.TrimEnd('.')}; skipped.");
                skipped.Add(relative);
                continue;
            }
            if (options.CheckSize)
            {
                long size = datum.Data.Length;
                if (firstSize < 0) firstSize = size;
                else if (size != firstSize)
                    throw new InvalidDataException($"{file} ({listFile} line for '{relative}') gives {size} bytes of data, but the first image gave {firstSize} (--check_size).");
            }
            byte[] key = Encoding.UTF8.GetBytes(MnistToLmdb.Key(id) + "_" + relative);
            if (lmdb && key.Length > LmdbLayout.MaxKeySize)
                throw new ArgumentException($"The key for '{relative}' is {key.Length} bytes; LMDB keys hold at most {LmdbLayout.MaxKeySize}. Shorten the paths in {listFile}.");
            database.Add(key, datum.ToByteArray());
            if (++written % MnistToLmdb.RecordsPerTransaction == 0) log?.Invoke($"Processed {written} files.");
        }
        if (written % MnistToLmdb.RecordsPerTransaction != 0) log?.Invoke($"Processed {written} files.");
        database.Commit();
        return new ImagesetResult(written, skipped);
    }

    private static Datum ReadDatum(string file, int label, ImagesetOptions options, bool encoded, string encodeType)
    {
        var image = ImageFile.Load(file, color: !options.Gray);
        bool resize = options.ResizeHeight > 0 && options.ResizeWidth > 0;
        if (resize) image = ImageResize.Bilinear(image, options.ResizeHeight, options.ResizeWidth);
        if (encoded)
        {
            string extension = Path.GetExtension(file).TrimStart('.').ToLowerInvariant();
            string format = encodeType.Length > 0 ? encodeType : extension;
            byte[] bytes = File.ReadAllBytes(file);
            bool keepFile = !resize && SameFormat(extension, format) && ImageEncoding.IsGray(bytes, file) == options.Gray;
            if (!keepFile)
            {
                if (!ImageEncoding.Formats.Contains(format))
                    throw new ArgumentException($"{file} must be re-encoded but its type '{format}' cannot be written; pass --encode_type png or jpg.");
                bytes = ImageEncoding.Encode(image, format);
            }
            return new Datum { Data = ByteString.CopyFrom(bytes), Label = label, Encoded = true };
        }
        var pixels = new byte[image.Pixels.Length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)Math.Clamp(MathF.Round(image.Pixels[i]), 0, 255);
        return new Datum { Channels = image.Channels, Height = image.Height, Width = image.Width, Data = ByteString.CopyFrom(pixels), Label = label };
    }

    private static bool SameFormat(string extension, string format) =>
        extension == format || (extension is ("jpg" or "jpeg") && format is ("jpg" or "jpeg"));
}
