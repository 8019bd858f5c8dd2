using System.Globalization;
using System.Text;

namespace Backprop;

// Printing as PyTorch does: tensor([[1.0000, 2.5000], ...], grad_fn=<AddBackward>).
public partial class Tensor
{
    private const int SummarizeAbove = 1000;
    private const int EdgeItems = 3;

    public override string ToString()
    {
        if (IsReleased) return $"tensor(<released to its TensorMemoryPool>, size={Shape})";
        var sb = new StringBuilder("tensor(");
        var format = ChooseFormat();
        if (Rank == 0) sb.Append(format(Storage[Offset]).Trim());
        else if (Length == 0) sb.Append("[]").Append(Rank > 1 || Shape[0] != 0 ? $", size={Shape}" : "");
        else AppendDim(sb, 0, 0, format, Length > SummarizeAbove, "tensor(".Length);
        if (GradFn is not null) sb.Append(", grad_fn=<").Append(GradFn.Name).Append('>');
        else if (RequiresGrad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    private Func<float, string> ChooseFormat()
    {
        var finite = Data.ToArray().Where(float.IsFinite).ToArray();
        var inv = CultureInfo.InvariantCulture;
        Func<float, string> f;
        if (finite.Length == 0) f = v => Special(v) ?? v.ToString(inv);
        else if (finite.All(v => v == MathF.Round(v)) && finite.Max(MathF.Abs) < 1e8f)
            f = v => Special(v) ?? v.ToString("0", inv) + ".";
        else
        {
            var nonZero = finite.Select(MathF.Abs).Where(v => v > 0).ToArray();
            float max = nonZero.Length > 0 ? nonZero.Max() : 0, min = nonZero.Length > 0 ? nonZero.Min() : 0;
            bool sci = nonZero.Length > 0 && (max / min > 1000f || max > 1e8f || min < 1e-4f);
            f = sci ? v => Special(v) ?? v.ToString("0.0000e+00", inv) : v => Special(v) ?? v.ToString("0.0000", inv);
        }
        int width = Data.ToArray().Max(v => f(v).Length);
        return v => f(v).PadLeft(width);
    }

    private static string? Special(float v) =>
        float.IsNaN(v) ? "nan" : float.IsPositiveInfinity(v) ? "inf" : float.IsNegativeInfinity(v) ? "-inf" : null;

    private void AppendDim(StringBuilder sb, int dim, int offset, Func<float, string> format, bool summarize, int indent)
    {
        int size = Shape[dim];
        int stride = 1;
        for (int i = dim + 1; i < Rank; i++) stride *= Shape[i];
        sb.Append('[');
        bool cut = summarize && size > 2 * EdgeItems;
        for (int i = 0; i < size; i++)
        {
            if (cut && i == EdgeItems)
            {
                sb.Append(dim == Rank - 1 ? " ..., " : "...,\n" + new string(' ', indent + dim + 1));
                i = size - EdgeItems;
            }
            if (dim == Rank - 1) sb.Append(format(Storage[Offset + offset + i]));
            else AppendDim(sb, dim + 1, offset + i * stride, format, summarize, indent);
            if (i < size - 1)
            {
                sb.Append(',');
                if (dim == Rank - 1) sb.Append(' ');
                else sb.Append('\n', Rank - dim - 1).Append(' ', indent + dim + 1);
            }
        }
        sb.Append(']');
    }
}
