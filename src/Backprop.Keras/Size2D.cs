namespace Backprop.Keras;

/// <summary>
/// A (height, width) pair as Keras takes kernel sizes, strides and pool sizes: an <c>int</c> means the same
/// value for both (<c>kernelSize: 3</c>), a tuple gives each (<c>kernelSize: (3, 5)</c>).
/// </summary>
public readonly record struct Size2D(int Height, int Width)
{
    public static implicit operator Size2D(int size) => new(size, size);

    public static implicit operator Size2D((int Height, int Width) size) => new(size.Height, size.Width);

    /// <summary>Keras's tuple text: <c>(3, 3)</c>.</summary>
    public override string ToString() => $"({Height}, {Width})";

    internal (int Height, int Width) Tuple => (Height, Width);
}
