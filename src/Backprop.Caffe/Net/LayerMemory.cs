using System.Globalization;

namespace Backprop.Caffe;

/// <summary>
/// Checks, before allocating, that a layer's blobs fit in memory, so a net whose num_output (or input shape) is huge
/// is refused at build time with the layer named, instead of an OutOfMemoryException or the process being killed.
/// </summary>
internal static class LayerMemory
{
    /// <summary>Bytes the process may still allocate: the limit the context sets, else what the GC says the machine has less what the heap holds.</summary>
    public static long Available(NetContext context) =>
        context.MemoryLimitBytes ?? Math.Max(0, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes - GC.GetTotalMemory(forceFullCollection: false));

    /// <summary>Throws naming <paramref name="where"/> when float blobs of <paramref name="shapes"/> would not fit.</summary>
    public static void EnsureFits(string where, string what, IEnumerable<Shape> shapes, NetContext context)
    {
        long bytes = shapes.Sum(s => 4L * s.Length);
        long available = Available(context);
        if (bytes <= available) return;
        string limit = context.MemoryLimitBytes is null ? "this machine has" : "the net's memory limit leaves";
        throw new CaffeNetException($"{where}: {what} need {Format(bytes)}, but {limit} {Format(available)} available; check num_output and the input sizes.");
    }

    /// <summary>Bytes in binary units, as people read them: 1.5 GiB.</summary>
    public static string Format(long bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} bytes" : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
