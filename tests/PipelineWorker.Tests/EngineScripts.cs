using System.Globalization;

namespace PipelineWorker.Tests;

/// <summary>
/// Stand-ins for pdftoppm and tesseract that misbehave (hang with a helper process of their own, or crash), as
/// executable shell scripts in a temp folder. They answer the start-up probe like the real programs. Each carries
/// unique sleep durations, so the test can look for its own leftovers in /proc.
/// </summary>
internal sealed class EngineScripts : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("suite-engine-scripts-");

    public EngineScripts()
    {
        var seed = Random.Shared.Next(100_000, 900_000);
        ChildSleep = seed * 10 + 1;
        MainSleep = seed * 10 + 3;
    }

    /// <summary>Seconds the helper child sleeps (a number no other process uses).</summary>
    public int ChildSleep { get; }

    /// <summary>Seconds the script itself sleeps.</summary>
    public int MainSleep { get; }

    /// <summary>A pdftoppm that answers -v and then hangs on every page, with a background child.</summary>
    public string HangingRenderer() => Write("pdftoppm", $"""
        #!/bin/sh
        if [ "$1" = "-v" ]; then echo "pdftoppm version 22.12.0 (hanging test double)" >&2; exit 0; fi
        sleep {Text(ChildSleep)} &
        sleep {Text(MainSleep)}
        """);

    /// <summary>A tesseract that answers --version and then crashes on every page with a message on stderr.</summary>
    public string CrashingOcr() => Write("tesseract", """
        #!/bin/sh
        if [ "$1" = "--version" ]; then echo "tesseract 5.3.0 (crashing test double)"; exit 0; fi
        echo "simulated engine crash: segmentation fault" >&2
        exit 139
        """);

    /// <summary>Processes still alive (not zombies) whose command line mentions one of this instance's sleeps.</summary>
    public IReadOnlyList<string> Leftovers()
    {
        var markers = new[] { Text(ChildSleep), Text(MainSleep) };
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(dir);
            if (!pid.All(char.IsAsciiDigit))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
                if (state != "Z" && markers.Any(m => cmdline.Contains(m, StringComparison.Ordinal)))
                {
                    found.Add($"{pid}: {cmdline.Trim()} ({state})");
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        return found;
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private string Write(string name, string script)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.WriteAllText(path, script.ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
