namespace Backprop;
internal static class AssemblyInfo { }
