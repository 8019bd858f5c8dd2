namespace Backprop.Keras;

/// <summary>Validation data for Fit, as Keras's <c>validation_data=(x_val, y_val)</c>: y as a tensor or as class labels.</summary>
public sealed class ValidationData
{
    public ValidationData(Tensor x, Tensor y)
    {
        X = x ?? throw new ArgumentNullException(nameof(x));
        Y = y ?? throw new ArgumentNullException(nameof(y));
    }

    public ValidationData(Tensor x, int[] labels)
    {
        X = x ?? throw new ArgumentNullException(nameof(x));
        Labels = labels ?? throw new ArgumentNullException(nameof(labels));
    }

    public Tensor X { get; }
    public Tensor? Y { get; }
    public int[]? Labels { get; }

    public static implicit operator ValidationData((Tensor X, Tensor Y) data) => new(data.X, data.Y);

    public static implicit operator ValidationData((Tensor X, int[] Labels) data) => new(data.X, data.Labels);
}
