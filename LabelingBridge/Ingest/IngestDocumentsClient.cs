using System.Globalization;
using System.Net;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Suite.Contracts;

namespace LabelingBridge.Ingest;

/// <summary>A document as ingest's public API lists it: only what the bridge needs.</summary>
public sealed record IngestDocument(string Id, string Status);

public sealed record IngestDocumentPage(IReadOnlyList<IngestDocument> Items, string? NextCursor);

/// <summary>Ingest could not be asked (down, timing out, failing); retrying later can help.</summary>
public sealed class IngestUnavailableException : Exception
{
    public IngestUnavailableException()
    {
    }

    public IngestUnavailableException(string message)
        : base(message)
    {
    }

    public IngestUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Reads documents from IngestService's public API (http://ingest through service discovery, with the suite's
/// standard per-dependency resilience). The bridge never touches ingest's files.
/// </summary>
public sealed class IngestDocumentsClient(HttpClient http)
{
    public const string ClientName = "ingest";

    /// <summary>GET /api/documents/{id}; null when ingest does not know the document.</summary>
    public async Task<IngestDocument?> GetDocumentAsync(string id, CancellationToken cancellationToken)
    {
        var body = await GetAsync($"api/documents/{Uri.EscapeDataString(id)}", cancellationToken);
        if (body is null)
        {
            return null;
        }

        using var json = Parse(body);
        return ReadDocument(json.RootElement) ?? throw new IngestUnavailableException("Ingest answered a document without id and status.");
    }

    /// <summary>GET /api/documents/{id}/result?format=json; null when there is no such document or no result.</summary>
    public async Task<DocumentResult?> GetResultAsync(string id, CancellationToken cancellationToken)
    {
        var body = await GetAsync($"api/documents/{Uri.EscapeDataString(id)}/result?format=json", cancellationToken);
        try
        {
            return body is null ? null : JsonSerializer.Deserialize<DocumentResult>(body, DocumentResult.JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new IngestUnavailableException("Ingest's result is not a valid DocumentResult: " + ex.Message, ex);
        }
    }

    /// <summary>
    /// One page of GET /api/documents (newest first, cursor paginated). Reads the items from <c>items</c>
    /// (or <c>documents</c>) and the cursor from <c>nextCursor</c>, each item's <c>id</c> and <c>status</c>.
    /// </summary>
    public async Task<IngestDocumentPage> ListDocumentsAsync(int limit, string? cursor, CancellationToken cancellationToken)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"api/documents?limit={limit}");
        if (!string.IsNullOrEmpty(cursor))
        {
            path += "&cursor=" + Uri.EscapeDataString(cursor);
        }

        var body = await GetAsync(path, cancellationToken) ?? throw new IngestUnavailableException("Ingest has no document list (404).");
        using var json = Parse(body);
        var root = json.RootElement;
        var items = root.ValueKind == JsonValueKind.Array ? root
            : root.TryGetProperty("items", out var i) ? i
            : root.TryGetProperty("documents", out var d) ? d
            : default;
        var documents = items.ValueKind == JsonValueKind.Array
            ? items.EnumerateArray().Select(ReadDocument).OfType<IngestDocument>().ToList()
            : [];
        var next = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("nextCursor", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        return new IngestDocumentPage(documents, next);
    }

    private async Task<string?> GetAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new IngestUnavailableException($"Ingest answered HTTP {(int)response.StatusCode} for {path}.");
            }

            return body;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
                                   || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new IngestUnavailableException($"Ingest could not be reached for {path}: {ex.Message}", ex);
        }
    }

    private static JsonDocument Parse(string body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new IngestUnavailableException("Ingest's answer is not JSON: " + ex.Message, ex);
        }
    }

    private static IngestDocument? ReadDocument(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object &&
        element.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String &&
        element.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String
            ? new IngestDocument(id.GetString()!, status.GetString()!)
            : null;
}
