namespace Backprop.Caffe.TextFormat;

/// <summary>
/// A mistake in a protobuf text file (a .prototxt net or solver): what went wrong and where.
/// </summary>
/// <remarks>
/// <see cref="Exception.Message"/> reads <c>file:line:column: detail</c>, the form editors and
/// compilers use, e.g. <c>lenet_solver.prototxt:3:10: expected a number for field 'base_lr' (float), found 'abc'</c>.
/// </remarks>
public sealed class PrototxtException : FormatException
{
    /// <summary>Creates the exception for a mistake at <paramref name="line"/>:<paramref name="column"/> of <paramref name="fileName"/>.</summary>
    public PrototxtException(string fileName, int line, int column, string detail)
        : base($"{fileName}:{line}:{column}: {detail}")
    {
        FileName = fileName;
        Line = line;
        Column = column;
        Detail = detail;
    }

    /// <summary>The file name (or path) as given to the parser; "&lt;string&gt;" for text parsed from memory.</summary>
    public string FileName { get; }

    /// <summary>The 1-based line of the mistake.</summary>
    public int Line { get; }

    /// <summary>The 1-based column of the mistake, counted in characters (a tab counts as one).</summary>
    public int Column { get; }

    /// <summary>What went wrong, without the location.</summary>
    public string Detail { get; }
}
