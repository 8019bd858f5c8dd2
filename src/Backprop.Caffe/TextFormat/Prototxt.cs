using Google.Protobuf;

namespace Backprop.Caffe.TextFormat;

/// <summary>
/// Protobuf text format ("prototxt"), the format of Caffe's net and solver files, for any
/// generated message (Google.Protobuf for C# reads and writes only binary and JSON).
/// </summary>
/// <example>
/// <code>
/// var solver = Prototxt.ParseFile&lt;SolverParameter&gt;("examples/mnist/lenet_solver.prototxt");
/// var net = Prototxt.Parse&lt;NetParameter&gt;(text, "lenet_train_test.prototxt");
/// string back = Prototxt.Format(net);
/// </code>
/// </example>
public static class Prototxt
{
    /// <summary>Reads <paramref name="text"/> into a new <typeparamref name="T"/>.</summary>
    /// <param name="text">Protobuf text: fields, blocks, comments.</param>
    /// <param name="fileName">Name used in error messages (<c>file:line:column: ...</c>).</param>
    /// <exception cref="PrototxtException">The text is malformed, names an unknown field or enum value,
    /// gives a value of the wrong type or out of range, sets a non-repeated field twice, or leaves a
    /// required field unset.</exception>
    public static T Parse<T>(string text, string fileName = "<string>") where T : IMessage<T>, new()
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        var message = new T();
        new PrototxtReader(text, fileName).ReadInto(message);
        return message;
    }

    /// <summary>Reads the file at <paramref name="path"/> into a new <typeparamref name="T"/>; errors name the path as given.</summary>
    /// <exception cref="PrototxtException">The file's text is not a valid <typeparamref name="T"/> (see <see cref="Parse{T}"/>).</exception>
    public static T ParseFile<T>(string path) where T : IMessage<T>, new()
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse<T>(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Writes <paramref name="message"/> as Caffe-style text: set fields in field-number order,
    /// two-space indent, enums by name, strings quoted and escaped. <see cref="Parse{T}"/> reads it back
    /// to an equal message.
    /// </summary>
    public static string Format(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return PrototxtWriter.Write(message);
    }
}
