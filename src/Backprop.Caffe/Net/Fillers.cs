using Backprop.Caffe.Proto;
using Backprop.Nn;

namespace Backprop.Caffe;

/// <summary>Caffe's fillers (FillerParameter) mapped onto <see cref="Init"/>.</summary>
public static class Fillers
{
    /// <summary>Fills <paramref name="blob"/> as <paramref name="filler"/> says; no filler means constant 0, as in Caffe.</summary>
    public static void Fill(Tensor blob, FillerParameter? filler, Generator generator, string where)
    {
        filler ??= new FillerParameter();
        if (filler.Sparse > 0) throw new CaffeNetException($"{where}: sparse fillers are not supported (sparse: {filler.Sparse}).");
        var norm = filler.VarianceNorm switch
        {
            FillerParameter.Types.VarianceNorm.FanOut => FanMode.FanOut,
            FillerParameter.Types.VarianceNorm.Average => FanMode.Average,
            _ => FanMode.FanIn,
        };
        switch (filler.Type)
        {
            case "constant": Init.Constant(blob, filler.Value); break;
            case "uniform": Init.Uniform(blob, filler.Min, filler.Max, generator); break;
            case "gaussian": Init.Gaussian(blob, filler.Mean, filler.Std, generator); break;
            case "xavier": Init.Xavier(blob, generator, norm); break;
            case "msra": Init.Msra(blob, generator, norm); break;
            case "positive_unitball": PositiveUnitBall(blob, generator); break;
            case "bilinear": Bilinear(blob, where); break;
            default:
                throw new CaffeNetException($"{where}: unknown filler type '{filler.Type}' (known: constant, uniform, gaussian, xavier, msra, positive_unitball, bilinear).");
        }
    }

    // Uniform in [0, 1), then each of the blob's first-axis rows scaled to sum to 1.
    private static void PositiveUnitBall(Tensor blob, Generator generator)
    {
        var d = blob.AsSpan();
        generator.FillUniform(d, 0, 1);
        int rows = blob.Shape[0], size = blob.Length / Math.Max(rows, 1);
        for (int r = 0; r < rows; r++)
        {
            var row = d.Slice(r * size, size);
            float sum = 0;
            foreach (float v in row) sum += v;
            for (int i = 0; i < row.Length; i++) row[i] /= sum;
        }
    }

    // Weights of bilinear upsampling for a deconvolution kernel (K, C, KH, KW) with KH == KW.
    private static void Bilinear(Tensor blob, string where)
    {
        if (blob.Rank != 4 || blob.Shape[2] != blob.Shape[3])
            throw new CaffeNetException($"{where}: the bilinear filler needs a square 4-D kernel, got {blob.Shape}.");
        int k = blob.Shape[3];
        float f = (float)Math.Ceiling(k / 2.0);
        float c = (2 * f - 1 - f % 2) / (2f * f);
        var d = blob.AsSpan();
        for (int i = 0; i < d.Length; i++)
        {
            float x = i % k, y = i / k % k;
            d[i] = (1 - Math.Abs(x / f - c)) * (1 - Math.Abs(y / f - c));
        }
    }
}
