using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>
/// A whole suite of real processes started from the real Aspire AppHost through Aspire.Hosting.Testing, and what the
/// tests do with it through the gateway: upload, read, wait for a terminal status, explain a failure. The shared
/// fixtures (<see cref="SuiteFixture"/>, <see cref="ChaosApp"/>) build on it; a test class with its own settings
/// starts one with <see cref="StartAsync"/> in the "pipeline-suite" collection, so never two at once.
/// </summary>
public class RunningSuite : IAsyncDisposable
{
    private SuiteApp? _app;
    private HttpClient? _gateway;

    protected RunningSuite()
    {
    }

    public SuiteApp App => _app ?? throw new InvalidOperationException("The suite is not started.");

    public HttpClient Gateway => _gateway ?? throw new InvalidOperationException("The suite is not started.");

    /// <summary>Starts the AppHost's topology after <paramref name="configure"/> adjusted it (replicas, environment).</summary>
    public static async Task<RunningSuite> StartAsync(Action<SuiteAppBuilder>? configure = null)
    {
        var builder = await SuiteAppBuilder.CreateAsync();
        configure?.Invoke(builder);
        var suite = new RunningSuite();
        await suite.StartAsync(builder);
        return suite;
    }

    /// <summary>Builds and starts the application (3 minutes at most); a start that fails stops what it started.</summary>
    protected async Task StartAsync(SuiteAppBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        _app = await builder.StartAsync();
        _gateway = _app.CreateGatewayClient();
    }

    /// <summary>Uploads a file through the gateway as multipart part "file" and returns the response as it is.</summary>
    public async Task<HttpResponseMessage> UploadAsync(string path, string? fileName = null, string contentType = "application/pdf")
    {
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(File.OpenRead(path));
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", fileName ?? Path.GetFileName(path));
        return await Gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), form);
    }

    /// <summary>Uploads a file and returns the new document's id (asserting 202).</summary>
    public async Task<string> UploadAcceptedAsync(string path) =>
        await AcceptedIdAsync(await UploadAsync(path), Path.GetFileName(path));

    /// <summary>Uploads PDF bytes under a file name and returns the new document's id (asserting 202).</summary>
    public async Task<string> UploadAcceptedAsync(byte[] content, string fileName)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", fileName);
        return await AcceptedIdAsync(await Gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), form), fileName);
    }

    public async Task<JsonElement> GetDocumentAsync(string id)
    {
        using var response = await Gateway.GetAsync(new Uri($"/api/documents/{id}", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    public static string Status(JsonElement document) => document.GetProperty("status").GetString()!;

    /// <summary>Polls until the document is completed, failed or cancelled, and returns it; a timeout explains itself.</summary>
    public async Task<JsonElement> WaitForTerminalAsync(string id, TimeSpan timeout)
    {
        JsonElement document = default;
        try
        {
            await Eventually.UntilAsync(async () =>
            {
                document = await GetDocumentAsync(id);
                return DocumentStatus.IsTerminal(Status(document));
            }, timeout, $"document {id} reaches a terminal status", TimeSpan.FromMilliseconds(250));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{document}\n{await DescribeAsync(id)}{Diagnostics()}", ex);
        }

        return document;
    }

    /// <summary>What the processes said recently, to explain a failure.</summary>
    public string Diagnostics() => App.Diagnostics(ExplainsFailures);

    public virtual async ValueTask DisposeAsync()
    {
        _gateway?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Whether a resource's logs belong in <see cref="Diagnostics"/>.</summary>
    protected virtual bool ExplainsFailures(string resource) => true;

    /// <summary>More about one document for a timeout's message (e.g. its event history); empty by default.</summary>
    protected virtual Task<string> DescribeAsync(string id) => Task.FromResult("");

    private static async Task<string> AcceptedIdAsync(HttpResponseMessage response, string fileName)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"upload of {fileName}: {(int)response.StatusCode} {body}");
            using var json = JsonDocument.Parse(body);
            return json.RootElement.GetProperty("id").GetString()!;
        }
    }
}

[CollectionDefinition("pipeline-suite", DisableParallelization = true)]
public sealed class PipelineSuiteCollection;
