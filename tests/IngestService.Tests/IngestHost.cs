using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.ServiceDefaults.Lifecycle;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// The real IngestService in-process (WebApplicationFactory) on a temp storage root with a real SQLite catalog,
/// talking to a real redis-server.
/// </summary>
public sealed class IngestHost : IAsyncDisposable
{
    private readonly Factory _factory;

    private readonly bool _kestrel;

    private IngestHost(string root, string redisConnection, IReadOnlyDictionary<string, string?> settings, bool kestrel)
    {
        Root = root;
        _kestrel = kestrel;
        _factory = new Factory(root, redisConnection, settings, Logs);
    }

    /// <summary>What the service logged (Warning and above, the host's level).</summary>
    public LogLines Logs { get; } = new();

    public string Root { get; }

    /// <summary>With Kestrel (real sockets): the address it listens on; otherwise the in-memory test server's.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public IServiceProvider Services => _factory.Services;

    public string TempDir => Path.Combine(Root, "tmp");

    public string UploadsDir => Path.Combine(Root, "uploads");

    /// <summary>A host on a temp (or the given) storage root; with <paramref name="kestrel"/> it listens on a real loopback port.</summary>
    public static IngestHost Create(string redisConnection, IReadOnlyDictionary<string, string?>? settings = null, string? root = null, bool kestrel = false)
    {
        root ??= Directory.CreateTempSubdirectory("ingest-tests-").FullName;
        return new IngestHost(root, redisConnection, settings ?? new Dictionary<string, string?>(), kestrel);
    }

    /// <summary>
    /// Starts the host (hosted services run) and returns a client. Start-up steps (storage, catalog) run in the
    /// background once the server listens; unless told not to, this waits until the service's own steps are done or one
    /// failed for good, as most tests want the catalog open before their first request.
    /// </summary>
    public IngestHost Start(bool waitForStartup = true)
    {
        if (_kestrel)
        {
            _factory.UseKestrel(0);
            _factory.StartServer();
            var addresses = _factory.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;
            BaseAddress = new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
            Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        }
        else
        {
            Client = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
            BaseAddress = Client.BaseAddress!;
        }

        if (waitForStartup)
        {
            var gate = Services.GetRequiredService<StartupGate>();
            if (!gate.WhenOwnStepsSettled.Wait(TimeSpan.FromSeconds(60)))
            {
                throw new TimeoutException("The service's start-up steps did not finish within 60 s: " + gate.Describe());
            }

            // The first connection to Redis too, unless a test started the service with Redis down on purpose.
            _ = gate.WhenSettled.Wait(TimeSpan.FromSeconds(3));
        }

        return this;
    }

    /// <summary>A read-only connection to the catalog file, for assertions (not pooled, so it never holds the file).</summary>
    public SqliteConnection OpenCatalog()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(Root, "catalog.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>Stops the service but keeps its storage root, for a test that starts another host on it (a restart).</summary>
    public async ValueTask StopKeepingRootAsync()
    {
        Client?.Dispose();
        await _factory.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        await StopKeepingRootAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class Factory(string root, string redisConnection, IReadOnlyDictionary<string, string?> settings, LogLines logs) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:redis", redisConnection);
            builder.UseSetting("Storage:Root", root);
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            // No clamd unless a test starts one (ClamdServer) and sets Scanner:Enabled and ConnectionStrings:clamav.
            builder.UseSetting("Scanner:Enabled", "false");
            builder.ConfigureServices(services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }
}

/// <summary>Requests and checks shared by the test classes.</summary>
public static class Api
{
    /// <summary>Uploads as multipart; <paramref name="query"/> (e.g. <c>priority=batch</c>) is sent as it is.</summary>
    public static async Task<HttpResponseMessage> UploadAsync(
        HttpClient client, byte[] content, string fileName, string contentType = "application/pdf", string partName = "file", string? query = null)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, partName, fileName);
        return await client.PostAsync("/api/documents" + (query is null ? "" : "?" + query), form);
    }

    public static async Task<HttpResponseMessage> UploadCorpusAsync(HttpClient client, string corpusName) =>
        await UploadAsync(client, await File.ReadAllBytesAsync(RepoPaths.CorpusFile(corpusName)), corpusName);

    /// <summary>Uploads and returns the new document's id, asserting 202.</summary>
    public static async Task<string> UploadOkAsync(HttpClient client, byte[] content, string fileName, string? query = null)
    {
        using var response = await UploadAsync(client, content, fileName, query: query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"upload answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>A small valid PDF from the corpus.</summary>
    public static byte[] MinimalPdf { get; } = File.ReadAllBytes(RepoPaths.CorpusFile("sf__minimal-document.pdf"));

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>Asserts a problem+json answer with this status and code, and returns it.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        Assert.True(problem.TryGetProperty("traceId", out _), "problem has a trace id");
        return problem;
    }

    /// <summary>The entries of a jobs stream (the interactive one unless told) that name <paramref name="documentId"/>.</summary>
    public static async Task<StreamEntry[]> JobEntriesAsync(IConnectionMultiplexer redis, string documentId, string stream = JobStreams.Jobs)
    {
        var entries = await redis.GetDatabase().StreamRangeAsync(stream, "-", "+");
        return entries.Where(e => e[JobStreams.DocumentIdField] == documentId).ToArray();
    }

    public static HttpRequestMessage WithLease(HttpMethod method, string uri, long lease, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Add(InternalApi.LeaseTokenHeader, lease.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }
}
