using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Suite.PipelineWorker.Stages;
using Suite.Testing;

// Pipeline benchmark: generates an N-page text PDF, runs the whole pipeline on it in-process (every stage, real
// engines) and reports pages/s, each stage's time and the process's peak working set, with pdftotext's time on
// the same file side by side. Each size runs in a fresh child process so that its peak memory is its own.
//   dotnet run -c Release --project tests/PipelineWorker.Benchmarks -- [--pages 100,1000]
// One size in this process (what each child runs): --single N [--input file.pdf]; settings from the environment
// (e.g. Pipeline__Render__Enabled=false) override the benchmark's own. PipelineWorker.Tests' memory test uses it.
var sizes = Arg("--pages", "100,1000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
if (Arg("--single", "") is { Length: > 0 } single)
{
    await RunOneAsync(int.Parse(single, CultureInfo.InvariantCulture), Arg("--input", ""));
    return 0;
}

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {MemoryGiB():0.0} GiB RAM, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine("pages | pipeline s | pages/s | pdftotext s | pipeline/pdftotext | peak working set MiB | stages (s)");
Console.WriteLine("--- | --- | --- | --- | --- | --- | ---");
foreach (var pages in sizes)
{
    var self = Environment.ProcessPath!;
    var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
    {
        start.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location);
    }

    foreach (var a in new[] { "--single", pages.ToString(CultureInfo.InvariantCulture) })
    {
        start.ArgumentList.Add(a);
    }

    using var child = Process.Start(start)!;
    Console.WriteLine((await child.StandardOutput.ReadToEndAsync()).Trim());
    await child.WaitForExitAsync();
    if (child.ExitCode != 0)
    {
        return child.ExitCode;
    }
}

Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
return 0;

static async Task RunOneAsync(int pages, string input)
{
    var work = Directory.CreateTempSubdirectory("suite-benchmark-");
    try
    {
        var pdf = Path.Combine(work.FullName, "input.pdf");
        if (input.Length > 0)
        {
            File.Copy(input, pdf);
        }
        else
        {
            await File.WriteAllBytesAsync(pdf, GeneratedReport.Build(pages));
        }

        var reference = Stopwatch.StartNew();
        using (var pdftotext = Process.Start(new ProcessStartInfo("pdftotext", [pdf, Path.Combine(work.FullName, "reference.txt")]) { UseShellExecute = false })!)
        {
            await pdftotext.WaitForExitAsync();
        }

        reference.Stop();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // A long document: every stage gets the time it needs (the defaults suit interactive documents).
            ["Worker:StageTimeoutSeconds"] = "3600",
            ["Worker:DocumentBudgetSeconds"] = "7200",
            ["Pipeline:Render:TimeoutSeconds"] = "3600",
        });
        builder.Configuration.AddEnvironmentVariables();
        builder.AddPipelineStages();
        using var host = builder.Build();
        var pipeline = host.Services.GetRequiredService<DocumentPipeline>();
        var context = new StageContext("benchmark", "input.pdf", Path.Combine(work.FullName, "work"));
        File.Copy(pdf, context.ContentPath);

        var timings = new List<string>();
        var total = Stopwatch.StartNew();
        foreach (var stage in pipeline.Stages)
        {
            var clock = Stopwatch.StartNew();
            var result = await pipeline.RunStageAsync(stage, context, CancellationToken.None, CancellationToken.None);
            timings.Add($"{stage.Name} {clock.Elapsed.TotalSeconds:0.0}{(result.Detail is null ? "" : " (" + result.Status + ")")}");
        }

        total.Stop();
        // Only the checkpoint's header is read: loading the whole result would measure this check, not the pipeline.
        var header = await AssembleStage.ReadSubmissionHeaderAsync(AssembleStage.SubmissionPath(context), CancellationToken.None);
        if (header?.PageCount != pages)
        {
            throw new InvalidOperationException($"the result has {header?.PageCount} pages, not {pages}");
        }

        using var me = Process.GetCurrentProcess();
        me.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{pages} | {total.Elapsed.TotalSeconds:0.0} | {pages / total.Elapsed.TotalSeconds:0.0} | {reference.Elapsed.TotalSeconds:0.00} | {total.Elapsed.TotalSeconds / reference.Elapsed.TotalSeconds:0} | {me.PeakWorkingSet64 / 1048576.0:0} | {string.Join(", ", timings)}"));
    }
    finally
    {
        work.Delete(recursive: true);
    }
}

static double MemoryGiB()
{
    var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
    return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024 / 1024;
}

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}
