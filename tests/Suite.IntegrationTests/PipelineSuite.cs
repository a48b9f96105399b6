using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Suite.IntegrationTests;

/// <summary>
/// A whole suite of real processes started from the AppHost's Program through the testing builder, with extra
/// arguments (environment overrides per resource). Each test class of the "pipeline-suite" collection starts its
/// own; the collection runs its classes one after another, so never two of these suites at once.
/// </summary>
public sealed class PipelineSuite : IAsyncDisposable
{
    private PipelineSuite(DistributedApplication app)
    {
        App = app;
        Gateway = new HttpClient { BaseAddress = app.GetEndpoint("gateway"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public DistributedApplication App { get; }

    public HttpClient Gateway { get; }

    public static async Task<PipelineSuite> StartAsync(params string[] args)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync(args);
        var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await app.StartAsync(timeout.Token);
        return new PipelineSuite(app);
    }

    public async Task<string> UploadAsync(string path)
    {
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(File.OpenRead(path));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", Path.GetFileName(path));
        using var response = await Gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"upload of {Path.GetFileName(path)}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> GetDocumentAsync(string id)
    {
        using var response = await Gateway.GetAsync(new Uri($"/api/documents/{id}", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    /// <summary>Polls until the document is completed, failed or cancelled, and returns it.</summary>
    public async Task<JsonElement> WaitForTerminalAsync(string id, TimeSpan timeout)
    {
        JsonElement document = default;
        await Eventually.UntilAsync(async () =>
        {
            document = await GetDocumentAsync(id);
            return document.GetProperty("status").GetString() is "completed" or "failed" or "cancelled";
        }, timeout, $"document {id} reaches a terminal status", TimeSpan.FromMilliseconds(500));
        return document;
    }

    /// <summary>What the processes said recently, to explain a failure.</summary>
    public string Diagnostics() =>
        string.Join("\n", App.Resources.SelectMany(r => App.GetReplicas(r.Name).Select(replica =>
            $"--- {r.Name}-{replica.Index} (pid {replica.ProcessId}, {replica.State}) ---\n" +
            string.Join('\n', App.GetRecentLogs(r.Name, replica.Index).Split('\n').TakeLast(20)))));

    public async ValueTask DisposeAsync()
    {
        Gateway.Dispose();
        await App.DisposeAsync();
    }
}

[CollectionDefinition("pipeline-suite", DisableParallelization = true)]
public sealed class PipelineSuiteCollection;
