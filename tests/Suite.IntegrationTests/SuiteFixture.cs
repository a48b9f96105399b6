using System.Net.Http.Headers;
using System.Text.Json;

namespace Suite.IntegrationTests;

/// <summary>
/// The whole suite as real processes (redis-server, ingest, 2 workers, bridge, gateway), built from the
/// AppHost's own Program through the testing builder, shared by the tests of the "suite" collection.
/// </summary>
public sealed class SuiteFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The suite is not started.");

    public HttpClient Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync([]);
        _app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await _app.StartAsync(timeout.Token);
        Gateway = new HttpClient { BaseAddress = _app.GetEndpoint("gateway"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Gateway?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>Uploads a file through the gateway as multipart part "file".</summary>
    public async Task<HttpResponseMessage> UploadAsync(string path, string? fileName = null, string contentType = "application/pdf")
    {
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(File.OpenRead(path));
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", fileName ?? Path.GetFileName(path));
        return await Gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), form);
    }

    /// <summary>Uploads and returns the new document's id (asserting 202).</summary>
    public async Task<string> UploadAcceptedAsync(string path)
    {
        using var response = await UploadAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"upload of {Path.GetFileName(path)}: {(int)response.StatusCode} {body}");
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

    /// <summary>Polls the document until it reaches a terminal status and returns it.</summary>
    public async Task<JsonElement> WaitForTerminalAsync(string id, TimeSpan timeout)
    {
        JsonElement document = default;
        await Eventually.UntilAsync(async () =>
        {
            document = await GetDocumentAsync(id);
            return document.GetProperty("status").GetString() is "completed" or "failed" or "cancelled";
        }, timeout, $"document {id} reaches a terminal status", TimeSpan.FromMilliseconds(250));
        return document;
    }

    /// <summary>What the processes said recently, to explain a failure.</summary>
    public string Diagnostics() =>
        string.Join("\n", App.Resources.SelectMany(r => App.GetReplicas(r.Name).Select(replica =>
            $"--- {r.Name}-{replica.Index} (pid {replica.ProcessId}, {replica.State}) ---\n" + Tail(App.GetRecentLogs(r.Name, replica.Index), 30))));

    private static string Tail(string text, int lines) =>
        string.Join('\n', text.Split('\n').TakeLast(lines));
}

[CollectionDefinition("suite")]
public sealed class SuiteCollection : ICollectionFixture<SuiteFixture>;
