using Backprop.Caffe;
using Backprop.Caffe.TextFormat;

namespace Backprop.Cli;

/// <summary>
/// Turns a user's mistake into one clear line on stderr and exit code 1, instead of a stack trace. Readers convert a
/// bad file into one of these types with the file named (InvalidDataException for data and weights files and ONNX files being imported,
/// CaffeNetException for nets and Caffe's binary files, PrototxtException for text, OnnxExportException for a net ONNX cannot express; DllNotFoundException when an optional
/// system library such as LevelDB is not installed, its message naming the package); anything else (NullReference,
/// InvalidOperation, OutOfMemory...) is a bug to fix at its reader and keeps its stack trace.
/// </summary>
internal static class CommandErrors
{
    public static int Run(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (Exception e) when (e is CaffeNetException or PrototxtException or FileNotFoundException or DirectoryNotFoundException
                                   or InvalidDataException or ArgumentException or IOException or UnauthorizedAccessException
                                   or Backprop.Data.DatasetUnavailableException or DllNotFoundException
                                   or Backprop.Onnx.OnnxExportException)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
