using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Text;
using System.Text.RegularExpressions;

namespace Backprop.Tests.Docs;

/// <summary>
/// Compiles documentation blocks, each a top-level-statements program as a user writes in <c>dotnet new console</c>,
/// into one library with the SDK's own C# compiler (csc.dll, so the tests need no Roslyn package), against the
/// Backprop assemblies these tests load. Each block becomes <c>DocBlocks.B{n}.Program.Run()</c>: its usings go to
/// its namespace, its statements into Run, and type declarations after the statements (as top-level programs place
/// them) beside Program. #line directives make compiler errors name the Markdown file and line.
/// </summary>
public static partial class DocsCompiler
{
    /// <summary>One piece of a block's source, with the file and line its first line comes from.</summary>
    public sealed record Piece(string Code, string File, int Line);

    /// <summary>The result: the loaded assembly (null when compilation failed) and the compiler's output.</summary>
    public sealed record Result(Assembly? Assembly, string Output);

    [GeneratedRegex(@"^using\s+(static\s+)?[\w.]+(\s*=\s*[\w.<>, ]+)?\s*;\s*(//.*)?$")]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"^((public|internal|sealed|static|abstract|partial|file)\s+)*(class|record|struct|enum|interface)\b")]
    private static partial Regex TypeDeclaration();

    // The usings `dotnet new console` turns on (ImplicitUsings), so blocks read as users' Program.cs files do.
    private const string ImplicitUsings =
        "global using System;\nglobal using System.IO;\nglobal using System.Linq;\nglobal using System.Collections.Generic;\n" +
        "global using System.Net.Http;\nglobal using System.Threading;\nglobal using System.Threading.Tasks;\n";

    /// <summary>The namespace-qualified name of block <paramref name="index"/>'s program class.</summary>
    public static string ProgramType(int index) => $"DocBlocks.B{index}.Program";

    /// <summary>The C# source of all blocks: block i (a list of pieces, read in order) becomes namespace DocBlocks.B{i}.</summary>
    public static string Source(IReadOnlyList<IReadOnlyList<Piece>> blocks)
    {
        var text = new StringBuilder(ImplicitUsings);
        for (int b = 0; b < blocks.Count; b++)
        {
            var usings = new StringBuilder();
            var body = new StringBuilder();
            var types = new StringBuilder();
            foreach (var piece in blocks[b]) Split(piece, usings, body, types);
            text.Append($"namespace DocBlocks.B{b}\n{{\n").Append(usings)
                .Append("#line default\npublic static class Program\n{\n#pragma warning disable CS1998\n")
                .Append("public static async System.Threading.Tasks.Task Run()\n{\n#pragma warning restore CS1998\n")
                .Append(body).Append("#line default\n}\n}\n").Append(types).Append("#line default\n}\n");
        }
        return text.ToString();
    }

    // Top usings (before the first statement) go to the namespace, statements to Run, and from the first type
    // declaration on to the namespace.
    private static void Split(Piece piece, StringBuilder usings, StringBuilder body, StringBuilder types)
    {
        var lines = piece.Code.Split('\n');
        int firstStatement = 0;
        while (firstStatement < lines.Length && (UsingDirective().IsMatch(lines[firstStatement].Trim())
            || string.IsNullOrWhiteSpace(lines[firstStatement]) || lines[firstStatement].TrimStart().StartsWith("//")))
            firstStatement++;
        int firstType = firstStatement;
        while (firstType < lines.Length && !TypeDeclaration().IsMatch(lines[firstType])) firstType++;
        Append(usings, lines, 0, firstStatement, piece);
        Append(body, lines, firstStatement, firstType, piece);
        Append(types, lines, firstType, lines.Length, piece);
    }

    private static void Append(StringBuilder to, string[] lines, int from, int end, Piece piece)
    {
        if (from >= end) return;
        to.Append(piece.File.Length == 0 ? "#line hidden\n" : $"#line {piece.Line + from} \"{piece.File}\"\n");
        for (int i = from; i < end; i++) to.Append(lines[i]).Append('\n');
    }

    /// <summary>Compiles <paramref name="source"/> with the SDK's csc and loads the library; the output names errors.</summary>
    public static Result Compile(string source)
    {
        string work = Directory.CreateTempSubdirectory("backprop-docs-").FullName;
        string name = "DocBlocks" + Guid.NewGuid().ToString("N");
        File.WriteAllText(Path.Combine(work, "Blocks.cs"), source);
        string output = Path.Combine(work, name + ".dll");
        var arguments = new List<string>
        {
            "-nologo", "-target:library", "-langversion:latest", "-nullable:enable", "-optimize+", "-unsafe-",
            $"-out:{output}", Path.Combine(work, "Blocks.cs"),
        };
        string runtime = RuntimeEnvironment.GetRuntimeDirectory();
        arguments.AddRange(Directory.GetFiles(runtime, "*.dll").Where(IsManaged).Select(f => "-r:" + f));
        arguments.AddRange(Directory.GetFiles(AppContext.BaseDirectory, "*.dll").Where(IsUserFacing).Select(f => "-r:" + f));
        File.WriteAllLines(Path.Combine(work, "csc.rsp"), arguments.Select(a => "\"" + a + "\""));

        var (dotnet, csc) = FindCompiler(runtime);
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(csc);
        start.ArgumentList.Add("@" + Path.Combine(work, "csc.rsp"));
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string log = process.StandardOutput.ReadToEnd() + stderr.Result;
        process.WaitForExit();
        if (process.ExitCode != 0) return new Result(null, log);
        return new Result(AssemblyLoadContext.Default.LoadFromAssemblyPath(output), log);
    }

    // Backprop's libraries and the packages their public API exposes (Caffe's messages are Google.Protobuf types).
    private static bool IsUserFacing(string path)
    {
        string name = Path.GetFileName(path);
        return (name.StartsWith("Backprop", StringComparison.Ordinal) && !name.StartsWith("Backprop.Tests", StringComparison.Ordinal)
            && !name.StartsWith("Backprop.MpiHost", StringComparison.Ordinal)) || name == "Google.Protobuf.dll";
    }

    // The shared framework folder also holds native libraries on some systems: reference only managed files.
    private static bool IsManaged(string path)
    {
        try { AssemblyName.GetAssemblyName(path); return true; }
        catch (BadImageFormatException) { return false; }
    }

    // dotnet/shared/Microsoft.NETCore.App/<version>/ -> dotnet/dotnet and dotnet/sdk/<newest>/Roslyn/bincore/csc.dll.
    private static (string Dotnet, string Csc) FindCompiler(string runtimeDirectory)
    {
        string root = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", ".."));
        string dotnet = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        var csc = Directory.Exists(Path.Combine(root, "sdk"))
            ? Directory.GetDirectories(Path.Combine(root, "sdk"))
                .Select(d => Path.Combine(d, "Roslyn", "bincore", "csc.dll")).Where(File.Exists)
                .OrderByDescending(p => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(p))))?.Split('-')[0], out var v) ? v : new Version())
                .FirstOrDefault()
            : null;
        if (csc == null || !File.Exists(dotnet))
            throw new FileNotFoundException($"No .NET SDK C# compiler (sdk/*/Roslyn/bincore/csc.dll) under {root}.");
        return (dotnet, csc);
    }
}
