namespace Backprop.Keras;

/// <summary>
/// A layer that joins several tensors of the functional API (<see cref="Concatenate"/>, <see cref="Add"/>): apply it
/// to a list, <c>new Add().Apply(a, b)</c>. It has no weights and cannot be added to a <see cref="Sequential"/>.
/// </summary>
public abstract class MergeLayer : Layer
{
    private KerasShape? merged;

    private protected MergeLayer(string? name) : base(name, null) { }

    /// <summary>The shapes of the tensors joined (set when applied).</summary>
    public IReadOnlyList<KerasShape> InputShapes { get; private set; } = [];

    /// <summary>Builds the layer on its inputs' shapes and returns the joined symbolic tensor.</summary>
    public KerasTensor Apply(params KerasTensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length < 2)
            throw new ArgumentException($"{ClassName} joins two or more tensors, but was applied to {inputs.Length}.");
        return KerasTensor.Create(this, inputs, () =>
        {
            var shapes = inputs.Select(t => t.Shape).ToArray();
            merged = MergedShape(shapes, string.Join(", ", inputs.Select(t => $"'{t.Layer.Name}' {t.Shape.WithBatch()}")));
            InputShapes = shapes;
            Build(shapes[0], inputs[0].Graph.Generator);
            return OutputShape;
        });
    }

    /// <summary>The joined sample shape; throws naming the layer and <paramref name="described"/> inputs when they do not fit.</summary>
    private protected abstract KerasShape MergedShape(IReadOnlyList<KerasShape> shapes, string described);

    /// <summary>The join on channels-first batches.</summary>
    internal abstract Tensor Forward(IReadOnlyList<Tensor> inputs);

    private protected override KerasShape BuildCore(KerasShape input, Generator generator) => merged ?? throw new ArgumentException(
        $"Layer '{Name}' ({ClassName}) joins several tensors, so it cannot be added to a Sequential; use the functional API: new {ClassName}().Apply(a, b).");

    internal override Tensor Forward(Tensor x, bool training) =>
        throw new InvalidOperationException($"Layer '{Name}' ({ClassName}) joins several tensors; it runs inside a functional Model.");

    private protected Exception MergeError(string described, string why) =>
        new ArgumentException($"Layer '{Name}' ({ClassName}) {why}, but its inputs are {described}.");
}
