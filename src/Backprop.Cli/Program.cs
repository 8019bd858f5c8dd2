using System.CommandLine;
using Backprop.Cli;
using Backprop.Kernels;

// The backprop command: Caffe's caffe tool (train, test, time), its data tools, and pictures of a net (BackpropCommand lists them).
var root = BackpropCommand.Create();
// The kernels read BACKPROP_SIMD once, in a static initializer: a bad value is said here in one line, not as a
// TypeInitializationException from whichever kernel runs first.
try
{
    _ = SimdWidth.Max;
}
catch (TypeInitializationException e) when (e.InnerException is InvalidOperationException setting)
{
    Console.Error.WriteLine($"error: {setting.Message}");
    return 1;
}
return root.Parse(args).Invoke();
