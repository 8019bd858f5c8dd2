using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Caffe's DataTransformer, shared by the data layers: out = (pixel − mean) · scale, over a crop_size ×
/// crop_size window (at random in TRAIN, centred in TEST) that mirror flips left-right at random in TRAIN.
/// The mean is mean_value (one per channel, or one for all) or mean_file (a <see cref="MeanImage"/> of the input's
/// size: each pixel less the mean at the same place of the uncropped, unflipped image).
/// Settings come from transform_param, else from the deprecated copies in the layer's own parameter.
/// </summary>
public sealed class DataTransformer
{
    private readonly string where;
    private readonly IReadOnlyList<float> meanValues;
    private float[] mean = [];
    private readonly MeanImage? meanImage;
    private readonly string? meanPath;
    private int channels, height, width;

    /// <param name="transform">The layer's transform_param, or null.</param>
    /// <param name="where">The layer, for messages: <c>Layer 'data' (type Data)</c>.</param>
    /// <param name="scale">The layer parameter's own (deprecated) scale, used when transform_param has none.</param>
    /// <param name="cropSize">The layer parameter's own crop_size, likewise.</param>
    /// <param name="mirror">The layer parameter's own mirror, likewise.</param>
    /// <param name="meanFile">The layer parameter's own mean_file, used when transform_param has none.</param>
    /// <param name="baseDirectory">Where a relative mean_file is looked for after the working directory (see <see cref="PathResolver"/>).</param>
    public DataTransformer(TransformationParameter? transform, string where, float scale = 1, uint cropSize = 0, bool mirror = false,
        string? meanFile = null, string? baseDirectory = null)
    {
        this.where = where;
        var t = transform ?? new TransformationParameter();
        string? file = t.HasMeanFile ? t.MeanFile : string.IsNullOrEmpty(meanFile) ? null : meanFile;
        if (file is not null)
        {
            if (t.MeanValue.Count > 0) throw Error("give mean_file or mean_value, not both.");
            meanPath = PathResolver.Resolve(file, baseDirectory);
            try { meanImage = MeanImage.Load(meanPath); }
            catch (CaffeNetException e) { throw new CaffeNetException($"{where}: {e.Message}", e); }
        }
        Scale = t.HasScale ? t.Scale : scale;
        CropSize = (int)(t.HasCropSize ? t.CropSize : cropSize);
        Mirror = t.HasMirror ? t.Mirror : mirror;
        meanValues = [.. t.MeanValue];
    }

    public float Scale { get; }

    /// <summary>Side of the square crop; 0 for none.</summary>
    public int CropSize { get; }

    public bool Mirror { get; }

    /// <summary>Fixes the input image size and checks mean_value and crop_size against it.</summary>
    public void Setup(int channels, int height, int width)
    {
        if (meanValues.Count != 0 && meanValues.Count != 1 && meanValues.Count != channels)
            throw Error($"mean_value needs 1 or {channels} values, got {meanValues.Count}.");
        if (meanImage is { } m && (m.Channels, m.Height, m.Width) != (channels, height, width))
            throw Error($"the mean file {meanPath} is a {m.Channels}x{m.Height}x{m.Width} image but the data is {channels}x{height}x{width}; compute the mean of this data (backprop compute-image-mean).");
        mean = meanValues.Count == 0 ? new float[channels] : Enumerable.Range(0, channels).Select(i => meanValues[meanValues.Count == 1 ? 0 : i]).ToArray();
        if (CropSize > Math.Min(height, width))
            throw Error($"crop_size {CropSize} is larger than the {height}x{width} images.");
        (this.channels, this.height, this.width) = (channels, height, width);
    }

    /// <summary>Channels, height and width of a transformed image (after <see cref="Setup"/>).</summary>
    public (int Channels, int Height, int Width) OutputSize =>
        (channels, CropSize > 0 ? CropSize : height, CropSize > 0 ? CropSize : width);

    /// <summary>
    /// Transforms one image. Random draws, in order: crop top, crop left (TRAIN with crop_size), then the
    /// mirror coin (TRAIN with mirror).
    /// </summary>
    /// <param name="pixels">The image: (C, H, W) as given to <see cref="Setup"/>.</param>
    /// <param name="destination">The transformed image: (C, OH, OW) as <see cref="OutputSize"/> says.</param>
    public void Transform(ReadOnlySpan<float> pixels, Span<float> destination, Generator random, bool training)
    {
        int c = channels, h = height, w = width;
        var (_, oh, ow) = OutputSize;
        if (pixels.Length != c * h * w) throw new ArgumentException($"{pixels.Length} pixel values are not a {c}x{h}x{w} image.", nameof(pixels));
        if (destination.Length != c * oh * ow) throw new ArgumentException($"destination holds {destination.Length} values, not {c}x{oh}x{ow}.", nameof(destination));
        int top = 0, left = 0;
        if (CropSize > 0)
        {
            top = training ? random.NextInt(h - CropSize + 1) : (h - CropSize) / 2;
            left = training ? random.NextInt(w - CropSize + 1) : (w - CropSize) / 2;
        }
        bool flip = Mirror && training && random.NextInt(2) == 1;
        if (meanImage is not null)
        {
            TransformWithMeanImage(pixels, meanImage.Values, destination, top, left, flip);
            return;
        }
        if (!flip && oh == h && ow == w)
        {
            // No crop: each channel plane in one pass (the same (pixel - mean) * scale as the loop below).
            for (int ch = 0; ch < c; ch++)
            {
                var plane = destination.Slice(ch * oh * ow, oh * ow);
                System.Numerics.Tensors.TensorPrimitives.Subtract(pixels.Slice(ch * h * w, h * w), mean[ch], plane);
                System.Numerics.Tensors.TensorPrimitives.Multiply(plane, Scale, plane);
            }
            return;
        }
        if (!flip)
        {
            // Row by row with SIMD: the same (pixel - mean) * scale as the loop below.
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < oh; y++)
                {
                    var row = destination.Slice((ch * oh + y) * ow, ow);
                    System.Numerics.Tensors.TensorPrimitives.Subtract(pixels.Slice((ch * h + top + y) * w + left, ow), mean[ch], row);
                    System.Numerics.Tensors.TensorPrimitives.Multiply(row, Scale, row);
                }
            return;
        }
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                {
                    int sx = flip ? left + ow - 1 - x : left + x;
                    destination[(ch * oh + y) * ow + x] = (pixels[(ch * h + top + y) * w + sx] - mean[ch]) * Scale;
                }
    }

    // Caffe's mean_file: each output pixel less the mean at its source position in the full image.
    private void TransformWithMeanImage(ReadOnlySpan<float> pixels, ReadOnlySpan<float> meanPixels, Span<float> destination, int top, int left, bool flip)
    {
        int c = channels, h = height, w = width;
        var (_, oh, ow) = OutputSize;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < oh; y++)
            {
                int source = (ch * h + top + y) * w + left;
                var row = destination.Slice((ch * oh + y) * ow, ow);
                if (!flip)
                {
                    System.Numerics.Tensors.TensorPrimitives.Subtract(pixels.Slice(source, ow), meanPixels.Slice(source, ow), row);
                    System.Numerics.Tensors.TensorPrimitives.Multiply(row, Scale, row);
                    continue;
                }
                for (int x = 0; x < ow; x++)
                    row[x] = (pixels[source + ow - 1 - x] - meanPixels[source + ow - 1 - x]) * Scale;
            }
    }

    /// <summary>
    /// A batch: <paramref name="batchSize"/> samples from <paramref name="next"/> (pixels as given to <see cref="Setup"/>,
    /// and a label), each transformed into data (N, C, OH, OW), with labels (N).
    /// </summary>
    public (Tensor Data, Tensor Labels) Batch(int batchSize, Generator random, bool training, Func<(float[] Pixels, float Label)> next)
    {
        var (c, oh, ow) = OutputSize;
        int sampleSize = c * oh * ow;
        var data = Tensor.Empty(batchSize, c, oh, ow);   // every sample and label is written below
        var labels = Tensor.Empty(batchSize);
        var d = data.AsSpan();
        var l = labels.AsSpan();
        for (int n = 0; n < batchSize; n++)
        {
            var (pixels, label) = next();
            Transform(pixels, d.Slice(n * sampleSize, sampleSize), random, training);
            l[n] = label;
        }
        return (data, labels);
    }

    private CaffeNetException Error(string message) => new($"{where}: {message}");
}
