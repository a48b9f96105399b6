using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Suite.PipelineWorker.Stages;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

// Pipeline benchmark: generates an N-page text PDF, runs the whole pipeline on it in-process (every stage, real
// engines) and reports pages/s, each stage's time and the process's peak working set, with pdftotext's time on
// the same file side by side. Each size runs in a fresh child process so that its peak memory is its own.
//   dotnet run -c Release --project tests/PipelineWorker.Benchmarks -- [--pages 100,1000]
var sizes = Arg("--pages", "100,1000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
if (Arg("--single", "") is { Length: > 0 } single)
{
    await RunOneAsync(int.Parse(single, CultureInfo.InvariantCulture));
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

static async Task RunOneAsync(int pages)
{
    var work = Directory.CreateTempSubdirectory("suite-benchmark-");
    try
    {
        var pdf = Path.Combine(work.FullName, "input.pdf");
        await File.WriteAllBytesAsync(pdf, Generate(pages));

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
        var submission = await AssembleStage.ReadSubmissionAsync(context, CancellationToken.None);
        if (submission.Markdown.Length == 0)
        {
            throw new InvalidOperationException("empty result");
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

// Pages of a report: a heading and paragraphs of ordinary text in Helvetica, A4.
static byte[] Generate(int pages)
{
    var builder = new PdfDocumentBuilder();
    var regular = builder.AddStandard14Font(Standard14Font.Helvetica);
    var bold = builder.AddStandard14Font(Standard14Font.HelveticaBold);
    string[] words = ["pipeline", "document", "resilience", "stage", "checkpoint", "worker", "layout", "table", "picture", "reading",
        "order", "queue", "lease", "timeout", "breaker", "retry", "result", "schema", "render", "engine"];
    var random = new Random(42);
    for (var n = 1; n <= pages; n++)
    {
        var page = builder.AddPage(PageSize.A4);
        page.AddText($"Section {n}: Benchmark page", 16, new PdfPoint(72, 770), bold);
        var y = 740.0;
        for (var line = 0; line < 40; line++, y -= 15)
        {
            if (line % 8 == 7)
            {
                continue;
            }

            var text = string.Join(' ', Enumerable.Range(0, 11).Select(_ => words[random.Next(words.Length)]));
            page.AddText(text, 10, new PdfPoint(72, y), regular);
        }

        page.AddText(n.ToString(CultureInfo.InvariantCulture), 10, new PdfPoint(295, 40), regular);
    }

    return builder.Build();
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
