using Backprop.IO;

namespace Backprop.Nn;

public abstract partial class Module
{
    /// <summary>
    /// Writes <see cref="StateDict"/> (parameters and buffers by dotted name) to <paramref name="path"/> as a
    /// safetensors file, atomically: the file appears complete or not at all.
    /// </summary>
    public void Save(string path) => SafeTensors.Write(path, StateDict());

    /// <summary>
    /// Loads parameters and buffers saved by <see cref="Save"/> (or any safetensors file with the same names
    /// and shapes). Every entry must match: a missing, unexpected or mis-shaped entry throws an
    /// <see cref="InvalidDataException"/> naming the file and the entries, and the module is left unchanged.
    /// </summary>
    public void Load(string path)
    {
        var state = SafeTensors.Read(path);
        try
        {
            LoadStateDict(state, strict: true);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}': {e.Message}", e);
        }
    }
}
