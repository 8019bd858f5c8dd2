using Backprop.Kernels;

namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// Matrix product. (m, k) @ (k, n) gives (m, n); a tensor of rank above 2 times a matrix treats its
    /// leading dimensions as rows; two tensors of rank 3 with the same batch size multiply batch by batch.
    /// </summary>
    public Tensor MatMul(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Tensor a = this, b = other;
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"MatMul needs tensors of rank 2 or more, got shapes {a.Shape} and {b.Shape}; use Reshape to add a dimension.");
        int k = a.Shape[-1];
        if (b.Shape[-2] != k)
            throw new ArgumentException($"MatMul: shapes {a.Shape} and {b.Shape} do not fit (inner dimensions {k} and {b.Shape[-2]}).");
        int n = b.Shape[-1];
        if (b.Rank == 2)
        {
            int m = 1;
            for (int i = 0; i < a.Rank - 1; i++) m *= a.Shape[i];
            var dims = a.Shape.ToArray();
            dims[^1] = n;
            var y = Tensor.Result(new Shape(dims));
            Gemm.Sgemm(false, false, m, n, k, 1f, a.Data, k, b.Data, n, 0f, y.AsSpan(), n);
            return Record(y, "MmBackward", (g, needs) =>
            {
                Tensor? da = null, db = null;
                if (needs[0])
                {
                    da = Tensor.Result(a.Shape);   // dA = g · Bᵀ
                    Gemm.Sgemm(false, true, m, k, n, 1f, g.Data, n, b.Data, n, 0f, da.AsSpan(), k);
                }
                if (needs[1])
                {
                    db = Tensor.Result(b.Shape);   // dB = Aᵀ · g
                    Gemm.Sgemm(true, false, k, n, m, 1f, a.Data, k, g.Data, n, 0f, db.AsSpan(), n);
                }
                return [da, db];
            }, a, b);
        }
        if (a.Rank != 3 || b.Rank != 3 || a.Shape[0] != b.Shape[0])
            throw new ArgumentException($"MatMul: batched product needs two rank-3 tensors with the same batch size, got {a.Shape} and {b.Shape}.");
        int batch = a.Shape[0], rows = a.Shape[1];
        var yb = Tensor.Result(new Shape(batch, rows, n));
        for (int i = 0; i < batch; i++)
            Gemm.Sgemm(false, false, rows, n, k, 1f, a.Data.Slice(i * rows * k), k, b.Data.Slice(i * k * n), n, 0f, yb.AsSpan().Slice(i * rows * n), n);
        return Record(yb, "BmmBackward", (g, needs) =>
        {
            Tensor? da = needs[0] ? Tensor.Result(a.Shape) : null, db = needs[1] ? Tensor.Result(b.Shape) : null;
            for (int i = 0; i < batch; i++)
            {
                var gi = g.Data.Slice(i * rows * n);
                if (da is not null) Gemm.Sgemm(false, true, rows, k, n, 1f, gi, n, b.Data.Slice(i * k * n), n, 0f, da.AsSpan().Slice(i * rows * k), k);
                if (db is not null) Gemm.Sgemm(true, false, k, n, rows, 1f, a.Data.Slice(i * rows * k), k, gi, n, 0f, db.AsSpan().Slice(i * k * n), n);
            }
            return [da, db];
        }, a, b);
    }
}
