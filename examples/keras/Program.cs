using System.Diagnostics;
using Backprop.Keras;
using KerasShapes;

// The Keras tutorial's first CNN, Conv2D(32, (3, 3), input_shape = (64, 64, 3), activation = 'relu'), written in C#
// and trained on images in folders: this writes circles/ and squares/ of 64x64 RGB PNGs (or reads a folder of
// class folders you give), loads them as Keras's image_dataset_from_directory does, prints the model's summary,
// trains with Keras's progress lines and prints the final validation accuracy.
//   dotnet run --project examples/keras -c Release -- [directory] [images per class] [epochs] [seed]
string? given = args.Length > 0 ? args[0] : null;
int perClass = args.Length > 1 ? int.Parse(args[1]) : 500;
int epochs = args.Length > 2 ? int.Parse(args[2]) : 5;
ulong seed = args.Length > 3 ? ulong.Parse(args[3]) : 1;
const int size = 64;

string directory = given ?? Path.Combine(Path.GetTempPath(), $"backprop-keras-shapes-{Environment.ProcessId}");
bool temporary = given is null;
if (!Directory.Exists(directory) || Directory.GetFileSystemEntries(directory).Length == 0)
{
    Console.WriteLine($"Writing {perClass} circles and {perClass} squares ({size}x{size} PNG) to {directory}");
    ShapeImages.Write(directory, perClass, size, seed);
}
else Console.WriteLine($"Reading the class folders in {directory}");

try
{
    var clock = Stopwatch.StartNew();
    var result = ShapesTraining.Train(directory, size, epochs, seed,
        progress: KerasProgressFormatter.ToWriter(Console.Out, verbose: Console.IsOutputRedirected ? 2 : 1),
        summary: Console.Write);
    Console.WriteLine($"{result.Training.Count} training and {result.Validation.Count} validation images, classes {string.Join(", ", result.Training.ClassNames)}; trained in {clock.Elapsed.TotalSeconds:F1} s");
    Console.WriteLine($"Final validation accuracy: {result.ValidationAccuracy:P1}");
}
finally
{
    if (temporary) Directory.Delete(directory, recursive: true);
}
