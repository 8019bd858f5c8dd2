namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// Caffe's ContrastiveLoss before its 1/(2N): with d² = ‖a − b‖² per row, Σ over rows of d² for similar pairs
    /// (<paramref name="similar"/> nonzero as a whole number) and max(margin − d, 0)² for the others
    /// (<paramref name="legacy"/>: max(margin − d², 0)), summed in float in row order.
    /// Gradient with respect to a (b gets its negative): 2(a − b) for similar rows; for the others, where the margin term is
    /// positive, −2(margin − d)/(d + 1e-4)·(a − b) (legacy: −2(a − b)), the 1e-4 being Caffe's guard against d = 0.
    /// a, b: (N, C, ...); similar: N values.
    /// </summary>
    public static Tensor ContrastiveLossSum(Tensor a, Tensor b, Tensor similar, float margin = 1f, bool legacy = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(similar);
        if (a.Rank < 1 || a.Shape != b.Shape)
            throw new ArgumentException($"ContrastiveLossSum: the two inputs must have one shape (N, C, ...), got {a.Shape} and {b.Shape}.");
        int rows = a.Shape[0], width = rows == 0 ? 0 : a.Length / rows;
        if (similar.Length != rows)
            throw new ArgumentException($"ContrastiveLossSum: {similar.Length} similarity labels for {rows} pairs.");
        var diff = new float[a.Length];
        System.Numerics.Tensors.TensorPrimitives.Subtract(a.Data, b.Data, diff);
        var same = similar.ToArray();
        var distSq = new float[rows];
        float loss = 0;
        for (int i = 0; i < rows; i++)
        {
            var row = diff.AsSpan(i * width, width);
            distSq[i] = System.Numerics.Tensors.TensorPrimitives.Dot(row, row);
            if ((int)same[i] != 0) loss += distSq[i];
            else if (legacy) loss += Math.Max(margin - distSq[i], 0f);
            else
            {
                float m = Math.Max(margin - MathF.Sqrt(distSq[i]), 0f);
                loss += m * m;
            }
        }
        return Tensor.Record(Tensor.Scalar(loss), "ContrastiveLossSumBackward", (dy, needs) =>
        {
            var da = Tensor.Result(a.Shape);
            var d = da.AsSpan();
            float g = 2 * dy.Item();
            for (int i = 0; i < rows; i++)
            {
                float beta;
                if ((int)same[i] != 0) beta = g;
                else if (legacy) beta = margin - distSq[i] > 0 ? -g : 0;
                else
                {
                    float dist = MathF.Sqrt(distSq[i]), m = margin - dist;
                    beta = m > 0 ? -g * m / (dist + 1e-4f) : 0;
                }
                System.Numerics.Tensors.TensorPrimitives.Multiply(diff.AsSpan(i * width, width), beta, d.Slice(i * width, width));
            }
            Tensor? db = null;
            if (needs[1])
            {
                db = Tensor.Result(b.Shape);
                System.Numerics.Tensors.TensorPrimitives.Negate(da.AsSpan(), db.AsSpan());
            }
            return [da, db, null];
        }, a, b, similar);
    }
}
