namespace Backprop.Data;

/// <summary>The header of an IDX file: element type and dimensions (the data follows it).</summary>
/// <param name="Type">The element type.</param>
/// <param name="Shape">The dimensions, outermost first; each is positive.</param>
public sealed record IdxHeader(IdxElementType Type, int[] Shape)
{
    /// <summary>Bytes the header takes in the file: the 4-byte magic number and 4 bytes per dimension.</summary>
    public int Length => 4 + 4 * Shape.Length;

    /// <summary>Number of elements (the product of the dimensions).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (int d in Shape) count *= d;
            return count;
        }
    }

    /// <summary>Bytes of data that follow the header.</summary>
    public long DataLength => ElementCount * Type.Size();

    /// <summary>The shape as text, e.g. <c>(60000, 28, 28)</c>.</summary>
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";
}
