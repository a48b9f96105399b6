using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Suite.Contracts;

namespace LabelingBridge.Tests.Infrastructure;

/// <summary>
/// A STAND-IN for IngestService's public document API (real HTTP on a loopback port), serving only what the bridge
/// reads, in ingest's shapes (IngestService/Documents/DocumentDtos.cs): GET /api/documents/{id} (DocumentDetail:
/// id, fileName, status, ...), GET /api/documents/{id}/result?format=json (a DocumentResult in
/// DocumentResult.JsonOptions), GET /api/documents?limit=&amp;cursor= (DocumentPage: items newest first, nextCursor).
/// Unknown ids answer a 404 problem, a result of an unfinished document a 409 problem, like ingest. (The real service
/// needs Redis, storage and workers; this keeps the bridge's tests self-contained.)
/// </summary>
public sealed class IngestStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (string Status, DocumentResult Result, DateTimeOffset Created)> _documents = new(StringComparer.Ordinal);
    private int _requests;

    private IngestStandIn(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; private set; }

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<IngestStandIn> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        var standIn = new IngestStandIn(app, new Uri("http://placeholder"));
        standIn.Map(app);
        await app.StartAsync();
        standIn.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return standIn;
    }

    public void Add(DocumentResult result, string status = DocumentStatus.Completed) =>
        _documents[result.DocumentId] = (status, result, DateTimeOffset.UtcNow);

    public void SetStatus(string id, string status) =>
        _documents.AddOrUpdate(id, _ => throw new KeyNotFoundException(id), (_, d) => (status, d.Result, d.Created));

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref _requests);
            await next(context);
        });
        app.MapGet("/api/documents/{id}", (string id) => _documents.TryGetValue(id, out var d)
            ? Results.Json(new { id, fileName = d.Result.FileName, status = d.Status, sizeBytes = 1000, sha256 = new string('0', 64), createdAt = d.Created, updatedAt = d.Created, stages = Array.Empty<object>(), attempts = 1, retries = 0 })
            : NotFound(id));
        app.MapGet("/api/documents/{id}/result", (string id, string? format) =>
        {
            if (!_documents.TryGetValue(id, out var d))
            {
                return NotFound(id);
            }

            if (d.Status != DocumentStatus.Completed)
            {
                return Results.Problem(statusCode: 409, title: "Result not ready", extensions: new Dictionary<string, object?> { ["code"] = "result_not_ready" });
            }

            return format is null or "json" ? Results.Json(d.Result, DocumentResult.JsonOptions) : Results.BadRequest();
        });
        app.MapGet("/api/documents", (int? limit, string? cursor) =>
        {
            var ordered = _documents.OrderByDescending(d => d.Value.Created).ThenByDescending(d => d.Key, StringComparer.Ordinal).ToList();
            var skip = int.TryParse(cursor, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 0;
            var take = Math.Clamp(limit ?? 20, 1, 100);
            var page = ordered.Skip(skip).Take(take).Select(d => new { id = d.Key, fileName = d.Value.Result.FileName, status = d.Value.Status, sizeBytes = 1000, sha256 = new string('0', 64), createdAt = d.Value.Created, updatedAt = d.Value.Created }).ToList();
            var next = skip + take < ordered.Count ? (skip + take).ToString(CultureInfo.InvariantCulture) : null;
            return Results.Json(new { items = page, nextCursor = next });
        });
    }

    private static IResult NotFound(string id) =>
        Results.Problem(statusCode: 404, title: "Document not found", detail: $"No document {id}", extensions: new Dictionary<string, object?> { ["code"] = "document_not_found" });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
