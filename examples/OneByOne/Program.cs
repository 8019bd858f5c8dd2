using System.Globalization;
using OneByOne;

// Is a 1x1 convolution just a fully connected layer applied at every pixel?
// Gives a Conv2d(C, C', 1) and a Linear(C, C') the same weights, compares their outputs at every pixel,
// and times both per output element.
//   dotnet run --project examples/OneByOne -c Release [-- --batch 8 --channels 256 --out-channels 256 --size 56 --repetitions 10]
int batch = Option("--batch", 8);
int c = Option("--channels", 256);
int cOut = Option("--out-channels", 256);
int size = Option("--size", 56);
int repetitions = Option("--repetitions", 10);

Console.WriteLine($"Conv2d({c}, {cOut}, 1) and Linear({c}, {cOut}) with the same weights and bias, input ({batch}, {c}, {size}, {size}):");
float diff = OneByOneComparison.MaxDifference(batch, c, cOut, size, size);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  max |conv - linear| over all {(long)batch * cOut * size * size:N0} outputs: {diff:G3}"));
var (convNs, linearNs) = OneByOneComparison.NanosecondsPerElement(batch, c, cOut, size, size, repetitions);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  forward time per output element (median of {repetitions}): conv {convNs:F3} ns, linear {linearNs:F3} ns (ratio {convNs / linearNs:F2})"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  each output element is {c} multiply-adds, so that is {2 * c / convNs:F1} and {2 * c / linearNs:F1} GFLOP/s"));
Console.WriteLine();
Console.WriteLine("A 1x1 convolution is a fully connected layer over the channels, applied at every pixel with shared weights:");
Console.WriteLine("the same numbers, and (one matrix product each, no im2col) the same cost per element.");

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
