using Backprop.Caffe.Proto;
using Backprop.Nn;

namespace Backprop.Caffe;

/// <summary>Caffe's fillers (FillerParameter) mapped onto <see cref="Init"/>, with Caffe's fans and its sparse gaussian.</summary>
public static class Fillers
{
    /// <summary>Fills <paramref name="blob"/> as <paramref name="filler"/> says; no filler means constant 0, as in Caffe.</summary>
    public static void Fill(Tensor blob, FillerParameter? filler, Generator generator, string where)
    {
        filler ??= new FillerParameter();
        if (filler.Sparse < -1 || (filler.Sparse >= 0 && filler.Type != "gaussian"))
            throw new CaffeNetException($"{where}: sparse: {filler.Sparse} is only meaningful for the gaussian filler (Caffe: -1 means dense, n >= 0 keeps about n inputs per output).");
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
            case "gaussian":
                Init.Gaussian(blob, filler.Mean, filler.Std, generator);
                if (filler.Sparse >= 0) Sparsify(blob, filler.Sparse, generator, where);
                break;
            case "xavier": generator.FillUniform(blob.AsSpan(), -MathF.Sqrt(3f / Fan(blob.Shape, norm)), MathF.Sqrt(3f / Fan(blob.Shape, norm))); break;
            case "msra": generator.FillNormal(blob.AsSpan(), 0, MathF.Sqrt(2f / Fan(blob.Shape, norm))); break;
            case "positive_unitball": PositiveUnitBall(blob, generator); break;
            case "bilinear": Bilinear(blob, where); break;
            default:
                throw new CaffeNetException($"{where}: unknown filler type '{filler.Type}' (known: constant, uniform, gaussian, xavier, msra, positive_unitball, bilinear).");
        }
    }

    // Caffe's fans: fan_in = count / shape(0); fan_out = count / shape(1), or count for a 1-D blob.
    private static float Fan(Shape shape, FanMode mode)
    {
        if (shape.Rank < 1 || shape.Length == 0) return 1;
        float fanIn = shape.Length / shape[0], fanOut = shape.Rank > 1 ? shape.Length / shape[1] : shape.Length;
        return mode switch { FanMode.FanOut => fanOut, FanMode.Average => (fanIn + fanOut) / 2, _ => fanIn };
    }

    // Caffe's sparse gaussian: each weight is kept with probability sparse / num_outputs (the blob's first axis), else 0,
    // so each output keeps about `sparse` of its inputs.
    private static void Sparsify(Tensor blob, int sparse, Generator generator, string where)
    {
        if (blob.Rank < 1 || blob.Shape[0] == 0) return;
        float keep = (float)sparse / blob.Shape[0];
        if (keep > 1) throw new CaffeNetException($"{where}: sparse: {sparse} is more than the blob's {blob.Shape[0]} outputs.");
        var d = blob.AsSpan();
        for (int i = 0; i < d.Length; i++)
            if (!(generator.NextFloat() < keep)) d[i] = 0;
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

    // Weights of bilinear upsampling for a deconvolution kernel (K, C, KH, KW) with KH == KW; the centre is at
    // (K − 1) / (2f), as in Caffe master (the 1.0 release put it elsewhere for sizes other than 2·factor − factor % 2).
    private static void Bilinear(Tensor blob, string where)
    {
        if (blob.Rank != 4 || blob.Shape[2] != blob.Shape[3])
            throw new CaffeNetException($"{where}: the bilinear filler needs a square 4-D kernel, got {blob.Shape}.");
        int k = blob.Shape[3];
        float f = (float)Math.Ceiling(k / 2.0);
        float c = (k - 1) / (2f * f);
        var d = blob.AsSpan();
        for (int i = 0; i < d.Length; i++)
        {
            float x = i % k, y = i / k % k;
            d[i] = (1 - Math.Abs(x / f - c)) * (1 - Math.Abs(y / f - c));
        }
    }
}
