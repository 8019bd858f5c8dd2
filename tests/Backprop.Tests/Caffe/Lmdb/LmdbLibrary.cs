using System.Runtime.InteropServices;
using LightningDB;

namespace Backprop.Tests.Caffe.Lmdb;

/// <summary>
/// Chooses the native LMDB library that LightningDB calls, for the tests that hold the managed reader and writer
/// against native LMDB (the product reads and writes LMDB in managed code). Caffe's databases are in LMDB 0.9's
/// format; the library bundled with LightningDB 0.23 is LMDB 1.0, which cannot read it, and its Linux build needs
/// glibc 2.38 or newer (Debian 12 has 2.36). So the system's LMDB 0.9 (Debian/Ubuntu: <c>apt-get install liblmdb0</c>;
/// macOS: <c>brew install lmdb</c>) is preferred, the bundled library is the fallback, and the environment variable
/// <c>BACKPROP_LMDB_LIBRARY</c> (a path, or <c>bundled</c>) overrides the choice. Call <see cref="Initialize"/> before
/// any other LightningDB call.
/// </summary>
internal static class LmdbLibrary
{
    /// <summary>The environment variable that names the LMDB library to load (or <c>bundled</c>).</summary>
    public const string EnvironmentVariable = "BACKPROP_LMDB_LIBRARY";

    private static readonly Lazy<string> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Installs the library choice (once) and returns LMDB's version string, e.g. <c>LMDB 0.9.24: (July 24, 2019)</c>.</summary>
    /// <exception cref="DllNotFoundException">No LMDB library can be loaded; the message says what to install.</exception>
    public static string Initialize() => Loaded.Value;

    /// <summary>The library names tried before the bundled one.</summary>
    private static string[] SystemCandidates() =>
        OperatingSystem.IsLinux() ? ["liblmdb.so.0", "liblmdb.so"]
        : OperatingSystem.IsMacOS() ? ["liblmdb.dylib", "/opt/homebrew/lib/liblmdb.dylib", "/usr/local/lib/liblmdb.dylib"]
        : [];

    private static string Load()
    {
        string? requested = Environment.GetEnvironmentVariable(EnvironmentVariable);
        IntPtr handle = IntPtr.Zero;
        string? origin = null;
        if (string.IsNullOrEmpty(requested))
        {
            foreach (string candidate in SystemCandidates())
                if (NativeLibrary.TryLoad(candidate, out handle)) { origin = candidate; break; }
        }
        else if (!requested.Equals("bundled", StringComparison.OrdinalIgnoreCase))
        {
            if (!NativeLibrary.TryLoad(requested, out handle))
                throw new DllNotFoundException($"{EnvironmentVariable} names the LMDB library '{requested}', which could not be loaded.");
            origin = requested;
        }

        if (handle != IntPtr.Zero)
        {
            IntPtr chosen = handle;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(LightningEnvironment).Assembly,
                    (name, _, _) => name == "lmdb" ? chosen : IntPtr.Zero);
            }
            catch (InvalidOperationException)
            {
                // Someone else set LightningDB's resolver first; their choice stands.
            }
        }

        try
        {
            // Creating an environment (not opening it) touches no file but makes LightningDB load the library.
            using var probe = new LightningEnvironment(Path.GetTempPath());
            return probe.Version.Version + (origin is null ? " (bundled with LightningDB)" : $" ({origin})");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            throw new DllNotFoundException(
                "No usable LMDB library: " + (origin is null ? "" : $"'{origin}' failed ({e.Message}); ") +
                "LightningDB's bundled LMDB 1.0 did not load either (on Linux it needs glibc 2.38 or newer). " +
                "Install LMDB 0.9, the version Caffe's databases are written with: 'apt-get install liblmdb0' on Debian or Ubuntu, " +
                $"'brew install lmdb' on macOS; or set {EnvironmentVariable} to the path of an LMDB shared library.", e);
        }
    }
}
