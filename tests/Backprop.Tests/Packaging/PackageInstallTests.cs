using System.Diagnostics;
using System.Runtime.InteropServices;
using Xunit.Abstractions;

namespace Backprop.Tests.Packaging;

/// <summary>The packaging test runs alone: it packs, restores and builds, and would slow every test beside it.</summary>
[CollectionDefinition("Packaging", DisableParallelization = true)]
public sealed class PackagingCollection { }

/// <summary>
/// Packs the libraries and the tool as a release would, then uses them as a new user does: a fresh console project
/// outside the repository adds Backprop.Keras from the local package folder and trains the README's Keras model with
/// default settings; the tool installs into a tool path and answers --help. Slow (about a minute): filter it out with
/// <c>--filter "Category!=Packaging"</c>.
/// </summary>
/// <remarks>
/// The packages get a version unique to the run (0.1.0-test.*), so restore can use the machine's global package
/// folder for the third-party packages (restore needs no network) without ever confusing our packages with another
/// run's; the run deletes its own versions from that folder when it ends.
/// </remarks>
[Collection("Packaging")]
[Trait("Category", "Packaging")]
public sealed class PackageInstallTests(ITestOutputHelper log)
{
    private static readonly string[] Libraries =
        ["Backprop", "Backprop.Vision", "Backprop.Distributed", "Backprop.Detection", "Backprop.Caffe", "Backprop.Keras", "Backprop.Viz", "Backprop.Onnx"];

    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public void PackedKerasTrainsInAFreshProjectAndTheToolInstalls()
    {
        var repository = RepositoryRoot();
        var configuration = BuildConfiguration();
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var root = Path.Combine(Path.GetTempPath(), "backprop-packaging-" + Guid.NewGuid().ToString("N")[..12]);
        var feed = Path.Combine(root, "feed");
        Directory.CreateDirectory(feed);
        var clock = Stopwatch.StartNew();
        try
        {
            Pack(repository, root, feed, configuration, version);
            log.WriteLine($"packed in {clock.Elapsed.TotalSeconds:F0}s: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");

            var fit = TrainInFreshProject(root, feed, version);
            log.WriteLine($"fresh project trained by {clock.Elapsed.TotalSeconds:F0}s:\n{fit.Output}");
            Assert.Contains("Epoch 1/1", fit.Output);
            Assert.Contains("loss:", fit.Output);

            var help = InstallToolAndAskForHelp(root, feed, version);
            log.WriteLine($"tool installed and ran by {clock.Elapsed.TotalSeconds:F0}s");
            Assert.Contains("backprop", help.Output);
            Assert.DoesNotContain("Backprop.Cli", help.Output);
        }
        finally
        {
            DeleteQuietly(root);
            foreach (var id in Libraries.Append("Backprop.Cli").Append($"Backprop.Cli.{RuntimeInformation.RuntimeIdentifier}"))
            {
                var folder = Path.Combine(GlobalPackagesFolder(), id.ToLowerInvariant());
                DeleteQuietly(Path.Combine(folder, version));
                // The id's folder goes too when this run's version was all it held.
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) DeleteQuietly(folder);
            }
        }
    }

    /// <summary>
    /// Packs the built libraries (no rebuild) and the tool for this machine's platform only, in one MSBuild run
    /// (a traversal project in the temporary folder), the release's other platforms being the same build per RID.
    /// </summary>
    private void Pack(string repository, string root, string feed, string configuration, string version)
    {
        string Project(string name) => Path.Combine(repository, "src", name, name + ".csproj");
        var common = $"Configuration={configuration};PackageVersion={version};PackageOutputPath={feed}";
        var traversal = Path.Combine(root, "pack.proj");
        File.WriteAllText(traversal, $"""
            <Project>
              <Target Name="Pack">
                <MSBuild Projects="{string.Join(';', Libraries.Select(Project))}" Targets="Pack" Properties="{common};NoBuild=true" />
                <MSBuild Projects="{Project("Backprop.Cli")}" Targets="Pack"
                         Properties="{common};_IsPacking=true;ToolPackageRuntimeIdentifiers={RuntimeInformation.RuntimeIdentifier}" />
              </Target>
            </Project>
            """);
        var pack = ChildProcess.Run(ChildProcess.Dotnet, ["msbuild", traversal, "-t:Pack", "-nodeReuse:false", "-v:m", "-nologo"], root, StepTimeout);
        Assert.True(pack.ExitCode == 0, pack.ToString());
        foreach (var id in Libraries)
        {
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.nupkg")), $"{id} was not packed:\n{pack}");
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.snupkg")), $"{id}'s symbols were not packed:\n{pack}");
        }
    }

    /// <summary>A console project in the temporary folder (outside the repository, so none of its build settings
    /// apply) that adds Backprop.Keras with <c>dotnet add package</c> and fits the README's model for one epoch.</summary>
    private CommandResult TrainInFreshProject(string root, string feed, string version)
    {
        var project = Path.Combine(root, "FreshKeras");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "FreshKeras.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
            </Project>
            """);
        // The local folder is added beside the machine's configured sources, not instead of them.
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="backprop-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            using Backprop;
            using Backprop.Keras;

            // Two classes of 64x64 RGB pictures that differ in brightness, channels-last as Keras takes them.
            const int count = 64, pixels = 64 * 64 * 3;
            var random = new Random(7);
            var images = new float[count * pixels];
            var labels = new float[count];
            for (int i = 0; i < count; i++)
            {
                labels[i] = i % 2;
                for (int j = 0; j < pixels; j++) images[i * pixels + j] = 0.5f * labels[i] + 0.5f * random.NextSingle();
            }
            var x = Tensor.FromArray(images, count, 64, 64, 3);
            var y = Tensor.FromArray(labels, count, 1);

            var model = new Sequential(seed: 1,
                new Conv2D(32, (3, 3), inputShape: (64, 64, 3), activation: "relu"),
                new MaxPooling2D((2, 2)),
                new Flatten(),
                new Dense(1, activation: "sigmoid"));
            model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"]);
            model.Fit(x, y);
            """);

        var add = ChildProcess.Run(ChildProcess.Dotnet, ["add", "package", "Backprop.Keras", "--version", version, "--source", feed], project, StepTimeout);
        Assert.True(add.ExitCode == 0, add.ToString());
        var run = ChildProcess.Run(ChildProcess.Dotnet, ["run", "-c", "Release", "-p:UseSharedCompilation=false", "-nodeReuse:false"], project, StepTimeout);
        Assert.True(run.ExitCode == 0, run.ToString());
        return run;
    }

    /// <summary>Installs the tool into a tool path from the local folder and runs <c>backprop --help</c>.</summary>
    private static CommandResult InstallToolAndAskForHelp(string root, string feed, string version)
    {
        var tools = Path.Combine(root, "tools");
        var install = ChildProcess.Run(ChildProcess.Dotnet,
            ["tool", "install", "--tool-path", tools, "--add-source", feed, "--version", version, "Backprop.Cli"], root, StepTimeout);
        Assert.True(install.ExitCode == 0, install.ToString());
        var executable = Path.Combine(tools, OperatingSystem.IsWindows() ? "backprop.exe" : "backprop");
        Assert.True(File.Exists(executable), $"No {executable} after install:\n{install}");
        var help = ChildProcess.Run(executable, ["--help"], root, TimeSpan.FromMinutes(1));
        Assert.True(help.ExitCode == 0, help.ToString());
        return help;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Backprop.sln"))) return directory.FullName;
        throw new InvalidOperationException($"No Backprop.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The configuration this test assembly was built in (bin/Release/net10.0/): the libraries are packed from it.</summary>
    private static string BuildConfiguration() =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    private static string GlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static void DeleteQuietly(string directory)
    {
        try { if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
