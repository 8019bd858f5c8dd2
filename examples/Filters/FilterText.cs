using System.Text;
using Backprop;

namespace Filters;

/// <summary>Draws conv filters (K, 1, KH, KW) as text, each scaled to its own range, side by side.</summary>
public static class FilterText
{
    private const string Ramp = " .:-=+*#%@";

    public static string Render(Tensor filters)
    {
        int k = filters.Shape[0], h = filters.Shape[2], w = filters.Shape[3];
        var v = filters.ToArray();
        var sb = new StringBuilder();
        for (int r = 0; r < h; r++)
        {
            for (int f = 0; f < k; f++)
            {
                var filter = v.AsSpan(f * h * w, h * w);
                float min = float.MaxValue, max = float.MinValue;
                foreach (float x in filter) { min = Math.Min(min, x); max = Math.Max(max, x); }
                for (int c = 0; c < w; c++)
                {
                    float t = max > min ? (filter[r * w + c] - min) / (max - min) : 0.5f;
                    char ch = Ramp[Math.Min(Ramp.Length - 1, (int)(t * Ramp.Length))];
                    sb.Append(ch).Append(ch);
                }
                sb.Append("   ");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>Cosine similarity of each filter in <paramref name="a"/> with the same filter in <paramref name="b"/>.</summary>
    public static float[] Similarities(Tensor a, Tensor b)
    {
        int k = a.Shape[0], size = a.Length / k;
        var x = a.ToArray();
        var y = b.ToArray();
        var result = new float[k];
        for (int f = 0; f < k; f++)
        {
            double dot = 0, nx = 0, ny = 0;
            for (int i = f * size; i < (f + 1) * size; i++) { dot += x[i] * y[i]; nx += x[i] * x[i]; ny += y[i] * y[i]; }
            result[f] = (float)(dot / Math.Sqrt(nx * ny));
        }
        return result;
    }
}
