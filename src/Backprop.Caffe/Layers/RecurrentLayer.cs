using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// What Caffe's RNN and LSTM share (its RecurrentLayer). Bottoms: x (T, N, ...), T time steps of N independent
/// streams; cont (T, N), where 0 at step t starts a new sequence in that stream (the hidden state from step t − 1 is
/// multiplied by cont[t], so it is dropped); optionally x_static (N, ...), one input per stream added at every step;
/// with <c>expose_hidden</c>, then the initial hidden state blobs (1, N, num_output) — h_0 (and c_0 for LSTM) — and
/// the final ones as extra tops. Without <c>expose_hidden</c> the initial state is the final state of the previous
/// forward pass (zero before the first), as Caffe carries it between batches, and no gradient crosses batches.
/// As in Caffe, no gradient reaches cont, the exposed initial state bottoms, or comes back from the final state tops.
/// Caffe builds an unrolled net of InnerProduct, Eltwise, Scale and LSTMUnit layers; this computes the same sums
/// step by step with core ops, and keeps the learnable blobs in Caffe's order and shapes so .caffemodel weights load.
/// <c>debug_info</c> (the unrolled net's own logging) is accepted and ignored.
/// </summary>
public abstract class RecurrentLayer(LayerParameter definition) : CaffeLayer(definition)
{
    private Tensor[]? carried;   // final states of the previous forward, detached: (N, H) each
    private int inputs, staticInputs;   // features of one x step, of x_static per stream (−1: none)

    /// <summary>How many state blobs run through time: 1 (h) for RNN, 2 (h, c) for LSTM.</summary>
    protected abstract int StateCount { get; }

    /// <summary>Time steps T, streams N, hidden size H (num_output).</summary>
    protected int Steps { get; private set; }
    protected int Streams { get; private set; }
    protected int Hidden { get; private set; }

    /// <summary>True when the bottoms include x_static.</summary>
    protected bool HasStaticInput { get; private set; }

    private bool ExposeHidden => Definition.RecurrentParam?.ExposeHidden ?? false;

    public override (int Min, int Max) Bottoms => ExposeHidden ? (2 + StateCount, 3 + StateCount) : (2, 3);
    public override (int Min, int Max) Tops => ExposeHidden ? (1 + StateCount, 1 + StateCount) : (1, 1);

    public sealed override IReadOnlyList<Shape> Setup(IReadOnlyList<Shape> bottoms, NetContext context, Generator filler)
    {
        var p = Definition.RecurrentParam ?? throw Error("recurrent_param is missing.");
        if (p.NumOutput == 0 || p.NumOutput > int.MaxValue) throw Error("recurrent_param's num_output must be set and positive.");
        Hidden = (int)p.NumOutput;
        var x = bottoms[0];
        if (x.Rank < 2) throw Error($"bottom x {x} must have at least 2 axes (time steps, streams, ...).");
        Steps = x[0];
        Streams = x[1];
        if (Steps == 0) throw Error($"bottom x {x} has no time steps.");
        CheckCont(bottoms[1]);
        HasStaticInput = bottoms.Count > 2 + (ExposeHidden ? StateCount : 0);
        staticInputs = -1;
        if (HasStaticInput)
        {
            var s = bottoms[2];
            if (s.Rank < 1 || s[0] != Streams) throw Error($"bottom x_static {s} must have the streams ({Streams}) as its first axis.");
            staticInputs = Product(s, 1);
        }
        var stateShape = new Shape(1, Streams, Hidden);
        if (ExposeHidden)
            for (int b = bottoms.Count - StateCount; b < bottoms.Count; b++)
                if (bottoms[b] != stateShape) throw Error($"initial state bottom {b} is {bottoms[b]}; it must be {stateShape} (1, streams, num_output).");
        inputs = Product(x, 2);
        CreateBlobs(p, inputs, staticInputs, context, filler);
        var tops = new List<Shape> { new(Steps, Streams, Hidden) };
        if (ExposeHidden) for (int i = 0; i < StateCount; i++) tops.Add(stateShape);
        return tops;
    }

    public sealed override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> bottoms, NetContext context, int layerIndex)
    {
        var x = bottoms[0];
        if (x.Rank < 2 || x.Shape[0] != Steps)
            throw Error($"bottom x is {x.Shape}, but the layer was set up for {Steps} time steps; the number of time steps cannot change.");
        int n = x.Shape[1];
        CheckCont(bottoms[1].Shape, n);
        if (n != Streams) { Streams = n; carried = null; }   // as after Caffe's Reshape to a new batch size: start afresh
        if (x.Length != (long)Steps * n * inputs)
            throw Error($"bottom x is {x.Shape}, but the layer was set up for {inputs} features per time step and stream.");
        var cont = bottoms[1].Detach().Reshape(Steps, n, 1);
        Tensor? xStatic = null;
        if (HasStaticInput)
        {
            var s = bottoms[2];
            if (s.Rank < 1 || s.Shape[0] != n || s.Length != (long)n * staticInputs)
                throw Error($"bottom x_static is {s.Shape}; it must hold {staticInputs} features for each of the {n} streams.");
            xStatic = s.Reshape(n, staticInputs);
        }

        var initial = new Tensor[StateCount];
        for (int i = 0; i < StateCount; i++)
        {
            if (!ExposeHidden) { initial[i] = carried?[i] ?? Tensor.Zeros(n, Hidden); continue; }
            var given = bottoms[bottoms.Count - StateCount + i];
            if (given.Shape != new Shape(1, n, Hidden))
                throw Error($"initial state bottom {bottoms.Count - StateCount + i} is {given.Shape}; it must be (1, {n}, {Hidden}).");
            initial[i] = given.Detach().Reshape(n, Hidden);
        }
        var (output, final) = Unroll(x.Reshape(Steps, n, inputs), cont, xStatic, initial);

        if (!ExposeHidden) { carried = final.Select(f => f.Detach()).ToArray(); return [output]; }
        return [output, .. final.Select(f => f.Detach().Reshape(1, n, Hidden))];
    }

    /// <summary>
    /// Creates (or, when the blobs are shared, checks) the learnable blobs in Caffe's order. <paramref name="inputs"/>:
    /// features of one x step; <paramref name="staticInputs"/>: features of x_static per stream, −1 without it.
    /// </summary>
    protected abstract void CreateBlobs(RecurrentParameter p, int inputs, int staticInputs, NetContext context, Generator filler);

    /// <summary>
    /// Runs the T steps. x: (T, N, inputs); cont: (T, N, 1), constant; xStatic: (N, staticInputs) or null;
    /// initial: the states (N, H) in Caffe's order (h, then c). Returns the top (T, N, H) and the final states.
    /// </summary>
    protected abstract (Tensor Output, Tensor[] Final) Unroll(Tensor x, Tensor cont, Tensor? xStatic, Tensor[] initial);

    /// <summary>Adds a blob of <paramref name="dims"/> filled by <paramref name="filler"/>, or checks the shared one at <paramref name="index"/>.</summary>
    protected void Blob(int index, string name, FillerParameter? fillerParam, NetContext context, Generator filler, params int[] dims)
    {
        var shape = new Shape(dims);
        if (Blobs.Count > index)
        {
            if (Blobs[index].Shape != shape) throw Error($"blob {index} ({name}) is {Blobs[index].Shape}; this layer needs {shape}.");
            return;
        }
        Fillers.Fill(AddBlob(Zeros(context, name, dims)), fillerParam, filler, $"{Where} {name}");
    }

    /// <summary>cont[t] as a (N, 1) column.</summary>
    protected static Tensor ContAt(Tensor cont, int t) => cont.Slice(t, t + 1).Reshape(cont.Shape[1], 1);

    private void CheckCont(Shape cont, int? streams = null)
    {
        int n = streams ?? Streams;
        if (cont.Rank != 2 || cont[0] != Steps || cont[1] != n)
            throw Error($"bottom cont is {cont}; it must be ({Steps}, {n}): one sequence-continuation flag per time step and stream.");
    }

    private static int Product(Shape s, int from)
    {
        long p = 1;
        for (int i = from; i < s.Rank; i++) p *= s[i];
        return (int)Math.Min(p, int.MaxValue);
    }
}
