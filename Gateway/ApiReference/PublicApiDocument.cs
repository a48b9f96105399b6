using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.ApiReference;

/// <summary>
/// The merged public OpenAPI document: each service's document fetched (service discovery, own resilience pipeline),
/// merged, and kept for PublicApi:CacheSeconds. A service that cannot be reached contributes the last document the
/// gateway got from it; one that never answered makes the whole document unavailable (a partial one would hide
/// endpoints), and that outcome is kept for PublicApi:FailureCacheSeconds.
/// </summary>
internal sealed partial class PublicApiDocument(
    IHttpClientFactory clients,
    GatewayRoutes routes,
    IOptions<PublicApiOptions> options,
    TimeProvider time,
    ILogger<PublicApiDocument> logger) : IDisposable
{
    public const string ClientName = "public-api-documents";

    private readonly SemaphoreSlim _building = new(1, 1);
    // Bounded by construction: one document per configured source (PublicApi:Sources), replaced at every good fetch.
    private readonly Dictionary<string, JsonObject> _lastGood = new(StringComparer.OrdinalIgnoreCase);

    // One merged document, fresh for PublicApi:CacheSeconds (FailureCacheSeconds after a failure).
    private Snapshot? _current;

    /// <summary>The merged document (null when a service never answered: <see cref="Snapshot.Missing"/> names them).</summary>
    public sealed record Snapshot(JsonObject? Document, IReadOnlyList<string> Missing, IReadOnlyList<string> Stale, DateTimeOffset FreshUntil);

    public async Task<Snapshot> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current && current.FreshUntil > time.GetUtcNow())
        {
            return current;
        }

        await _building.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } built && built.FreshUntil > time.GetUtcNow())
            {
                return built;
            }

            // Shared by every caller: not cancelled when the one that started it hangs up (the client has its own timeouts).
            _current = await BuildAsync();
            return _current;
        }
        finally
        {
            _building.Release();
        }
    }

    private async Task<Snapshot> BuildAsync()
    {
        var settings = options.Value;
        var sources = settings.Sources.OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
        var fetched = await Task.WhenAll(sources.Select(async s => (Cluster: s.Key, Document: await FetchAsync(s.Key, s.Value))));
        List<string> missing = [], stale = [];
        foreach (var (cluster, document) in fetched)
        {
            if (document is not null)
            {
                _lastGood[cluster] = document;
            }
            else
            {
                (_lastGood.ContainsKey(cluster) ? stale : missing).Add(cluster);
            }
        }

        var now = time.GetUtcNow();
        if (missing.Count > 0)
        {
            return new Snapshot(null, missing, stale, now.AddSeconds(settings.FailureCacheSeconds));
        }

        var merged = OpenApiMerge.Merge(
            [.. sources.Select(s => (s.Key, _lastGood[s.Key]))],
            routes.ClusterFor,
            routes.GatewayProblemsFor,
            settings.Title,
            settings.Description);
        return new Snapshot(merged, [], stale, now.AddSeconds(stale.Count > 0 ? settings.FailureCacheSeconds : settings.CacheSeconds));
    }

    private async Task<JsonObject?> FetchAsync(string cluster, Uri url)
    {
        try
        {
            using var client = clients.CreateClient(ClientName);
            using var response = await client.GetAsync(url);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            if (await JsonNode.ParseAsync(body) is JsonObject document
                && document["openapi"]?.GetValue<string>() is { } version && version.StartsWith("3.", StringComparison.Ordinal)
                && document["paths"] is JsonObject)
            {
                return document;
            }

            LogNotOpenApi(cluster, url);
            return null;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException or InvalidOperationException or Polly.ExecutionRejectedException)
        {
            LogUnreachable(ex, cluster, url, _lastGood.ContainsKey(cluster));
            return null;
        }
    }

    public void Dispose() => _building.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The API description of {Cluster} at {Url} could not be fetched (serving its previous copy: {HasPrevious})")]
    private partial void LogUnreachable(Exception exception, string cluster, Uri url, bool hasPrevious);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The answer of {Cluster} at {Url} is not an OpenAPI 3 document")]
    private partial void LogNotOpenApi(string cluster, Uri url);
}
