using Backprop;

namespace FiltersAndSeeds;

/// <summary>Filter <paramref name="A"/> of one set matched to filter <paramref name="B"/> of the other, with their |cosine similarity|.</summary>
public readonly record struct FilterPair(int A, int B, double Similarity);

/// <summary>Compares two sets of filters: |cosine similarity| (a filter and its negative count as the same detector, since
/// the next layer can flip the sign), and the one-to-one matching that maximises the total similarity.</summary>
public static class FilterMatching
{
    /// <summary>|cos| between filter i of <paramref name="a"/> and filter j of <paramref name="b"/>, both (K, ...).</summary>
    public static double[,] Similarities(Tensor a, Tensor b)
    {
        int k = a.Shape[0], size = a.Length / k;
        if (b.Shape[0] != k || b.Length != a.Length) throw new ArgumentException($"Filter sets {a.Shape} and {b.Shape} differ in shape.");
        var x = a.ToArray();
        var y = b.ToArray();
        var result = new double[k, k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                double dot = 0, nx = 0, ny = 0;
                for (int t = 0; t < size; t++)
                {
                    double p = x[i * size + t], q = y[j * size + t];
                    dot += p * q; nx += p * p; ny += q * q;
                }
                result[i, j] = nx > 0 && ny > 0 ? Math.Abs(dot) / Math.Sqrt(nx * ny) : 0;
            }
        return result;
    }

    /// <summary>Each filter of <paramref name="a"/> with the filter of <paramref name="b"/> the Hungarian algorithm gives it, in the order of <paramref name="a"/>.</summary>
    public static FilterPair[] Match(Tensor a, Tensor b)
    {
        var s = Similarities(a, b);
        var assignment = Hungarian.Maximize(s);
        return assignment.Select((j, i) => new FilterPair(i, j, s[i, j])).ToArray();
    }

    /// <summary>|cos| of each filter of <paramref name="a"/> with the same-numbered filter of <paramref name="b"/> (e.g. before and after training).</summary>
    public static double[] SameIndex(Tensor a, Tensor b)
    {
        var s = Similarities(a, b);
        return Enumerable.Range(0, a.Shape[0]).Select(i => s[i, i]).ToArray();
    }

    /// <summary>
    /// <paramref name="b"/>'s filters reordered so that position i holds the filter matched to <paramref name="a"/>'s
    /// filter i, each negated where its cosine with that filter is negative: a copy that lines up tile by tile with
    /// <paramref name="a"/> in a picture.
    /// </summary>
    public static Tensor Align(Tensor a, Tensor b, FilterPair[] pairs)
    {
        int k = a.Shape[0], size = a.Length / k;
        var x = a.ToArray();
        var y = b.ToArray();
        var result = new float[y.Length];
        foreach (var p in pairs)
        {
            double dot = 0;
            for (int t = 0; t < size; t++) dot += (double)x[p.A * size + t] * y[p.B * size + t];
            float sign = dot < 0 ? -1f : 1f;
            for (int t = 0; t < size; t++) result[p.A * size + t] = sign * y[p.B * size + t];
        }
        return Tensor.FromArray(result, b.Shape.ToArray());
    }
}
