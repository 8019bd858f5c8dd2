namespace Backprop.Vision;

/// <summary>Transforms applied one after another, each to the output of the one before (as Keras stacks augmentation layers).</summary>
public sealed class ComposedTransform : IImageTransform
{
    private readonly IImageTransform[] steps;

    public ComposedTransform(params IImageTransform[] steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Length == 0) throw new ArgumentException("A composed transform needs at least one step.", nameof(steps));
        if (Array.IndexOf(steps, null) >= 0) throw new ArgumentException("A step of the composed transform is null.", nameof(steps));
        this.steps = (IImageTransform[])steps.Clone();
    }

    public IReadOnlyList<IImageTransform> Steps => steps;

    public (int Height, int Width) OutputSize(int height, int width)
    {
        foreach (var step in steps) (height, width) = step.OutputSize(height, width);
        return (height, width);
    }

    public Image Apply(Image image, Generator generator)
    {
        foreach (var step in steps) image = step.Apply(image, generator);
        return image;
    }

    public override string ToString() => $"ComposedTransform({string.Join(", ", steps.Select(s => s.ToString()))})";
}
