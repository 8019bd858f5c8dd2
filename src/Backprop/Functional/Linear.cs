using Backprop.Kernels;

namespace Backprop;

public static partial class Functional
{
    /// <summary>
    /// y = x·Wᵀ + b. input: (..., in); weight: (out, in); bias: (out) or null. Output (..., out).
    /// One node (PyTorch's <c>AddmmBackward</c>), computed as one matrix product.
    /// </summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"Linear expects weight of shape (out, in), got {weight.Shape}.");
        int outF = weight.Shape[0], inF = weight.Shape[1];
        if (input.Rank < 1 || input.Shape[-1] != inF)
            throw new ArgumentException($"Linear: input of shape {input.Shape} does not end in {inF} features, as weight {weight.Shape} expects.");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF))
            throw new ArgumentException($"Linear: bias of shape {bias.Shape} does not match {outF} output features.");
        int m = input.Length / Math.Max(inF, 1);
        if (inF == 0) { m = 1; for (int i = 0; i < input.Rank - 1; i++) m *= input.Shape[i]; }
        var dims = input.Shape.ToArray();
        dims[^1] = outF;
        var y = Tensor.Uninitialized(new Shape(dims));   // the bias rows or beta = 0 overwrite every element
        var yd = y.AsSpan();
        // A small batch (LeNet's at 64): the product turned over, the input packed instead of the weight (the same bits).
        if (GemmFewRows.Applies(SimdWidth.Max, m, outF, inF))
        {
            GemmFewRows.Run(m, outF, inF, input.Data, weight.Data, bias is null ? default : bias.Data, yd);
        }
        else
        {
            if (bias is not null)
                for (int r = 0; r < m; r++) bias.Data.CopyTo(yd.Slice(r * outF, outF));
            Gemm.Sgemm(false, true, m, outF, inF, 1f, input.Data, inF, weight.Data, inF, bias is null ? 0f : 1f, yd, outF);
        }

        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Tensor.Record(y, "AddmmBackward", (dy, needs) =>
        {
            Tensor? dx = null, dw = null, db = null;
            if (needs[0])
            {
                dx = Tensor.Uninitialized(input.Shape);   // dx = dy·W (beta = 0 overwrites)
                if (GemmFewRows.AppliesNN(SimdWidth.Max, m, inF, outF)) GemmFewRows.RunNN(m, inF, outF, dy.Data, weight.Data, dx.AsSpan());
                else Gemm.Sgemm(false, false, m, inF, outF, 1f, dy.Data, outF, weight.Data, inF, 0f, dx.AsSpan(), inF);
            }
            if (needs[1] && weight.IsLeaf && weight.Grad is { } grad && grad.Shape == weight.Shape)
            {
                // dW = dyᵀ·x added by the product itself (beta = 1) into the gradient the weight already has, without
                // writing a separate dW and reading it back (for a large layer, megabytes per step); nothing is
                // returned for the weight. The same bits as accumulating a separate dW when the product is blocked
                // and the batch fits one depth block (Gemm.Kc rows); otherwise equal up to rounding.
                Gemm.Sgemm(true, false, outF, inF, m, 1f, dy.Data, outF, input.Data, inF, 1f, grad.AsSpan(), inF);
                weight.GradientAddedInPlace = true;
            }
            else if (needs[1])
            {
                dw = Tensor.Uninitialized(weight.Shape);  // dW = dyᵀ·x (beta = 0 overwrites)
                Gemm.Sgemm(true, false, outF, inF, m, 1f, dy.Data, outF, input.Data, inF, 0f, dw.AsSpan(), inF);
            }
            if (bias is not null && needs[2])
            {
                db = Tensor.Result(bias.Shape);    // db = Σ rows of dy
                var dbd = db.AsSpan();
                for (int r = 0; r < m; r++)
                    System.Numerics.Tensors.TensorPrimitives.Add(dbd, dy.Data.Slice(r * outF, outF), dbd);
            }
            return bias is null ? [dx, dw] : [dx, dw, db];
        }, inputs);
    }

    /// <summary>
    /// Inverted dropout: in training, zeroes each element with probability <paramref name="p"/> and scales
    /// the rest by 1/(1−p), so evaluation needs no scaling. Outside training it returns the input.
    /// </summary>
    public static Tensor Dropout(Tensor input, float p, bool training, Generator? generator = null)
    {
        if (p < 0 || p > 1 || float.IsNaN(p)) throw new ArgumentException($"Dropout probability must be in [0, 1], got {p}.");
        if (!training || p == 0) return input;
        var gen = generator ?? Generator.Default;
        var mask = TensorMemoryPool.RentFloats(input.Length);
        float scale = p == 1 ? 0f : 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = gen.NextFloat() < p ? 0f : scale;
        var y = Tensor.Result(input.Shape);
        System.Numerics.Tensors.TensorPrimitives.Multiply(input.Data, mask, y.AsSpan());
        return Tensor.Record(y, "NativeDropoutBackward", (dy, _) =>
        {
            var dx = Tensor.Result(input.Shape);
            System.Numerics.Tensors.TensorPrimitives.Multiply(dy.Data, mask, dx.AsSpan());
            return [dx];
        }, input);
    }

    /// <summary>Flattens every dimension from <paramref name="startAxis"/> on (default: all but the batch).</summary>
    public static Tensor Flatten(Tensor input, int startAxis = 1, int endAxis = -1) => input.Flatten(startAxis, endAxis);
}
