namespace Backprop.MpiHost;

internal static class KerasScenario
{
    public static int Run(string[] args) => 2;
}
