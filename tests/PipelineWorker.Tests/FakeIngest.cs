using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// A test double of IngestService's internal API (our own service), on real Kestrel on a loopback port, keeping
/// documents in memory. Faithful to the contract in <see cref="InternalApi"/> and to IngestService's semantics:
/// every claim grants a greater lease token; lease-fenced writes with another token get 409 <c>stale_lease</c>;
/// writes to a finished document get 409 <c>document_terminal</c>; checkpoints carry an X-Checksum-Sha256;
/// the same result stored twice is idempotent; a lease renewal answers the status (cancelled included) or 409;
/// a release queues the document again; errors are problem+json with a stable code. Leases never expire here.
/// </summary>
internal sealed class FakeIngest : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly WebApplication _app;
    private readonly Dictionary<string, FakeDocument> _documents = [];
    private readonly object _gate = new();

    private FakeIngest(WebApplication app, string baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public string BaseAddress { get; }

    /// <summary>When set, a claim's lease is superseded right after it is granted (as if another worker claimed too).</summary>
    public bool SupersedeEveryClaim { get; set; }

    public static async Task<FakeIngest> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeIngest(app, $"http://127.0.0.1:{port}");
        fake.Map(app);
        await app.StartAsync();
        return fake;
    }

    public FakeDocument Add(string id, string fileName, byte[] content)
    {
        lock (_gate)
        {
            var document = new FakeDocument(id, fileName, content);
            _documents[id] = document;
            return document;
        }
    }

    public FakeDocument Document(string id)
    {
        lock (_gate)
        {
            return _documents[id];
        }
    }

    /// <summary>Reads a document's state under the lock (the server thread writes it).</summary>
    public T Read<T>(string id, Func<FakeDocument, T> read)
    {
        lock (_gate)
        {
            return read(_documents[id]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Map(WebApplication app)
    {
        var documents = app.MapGroup(InternalApi.Prefix + "/documents/{id}");
        documents.MapPost("claim", async (string id, HttpContext http) =>
        {
            var request = await http.Request.ReadFromJsonAsync<ClaimRequest>(Json);
            lock (_gate)
            {
                if (!_documents.TryGetValue(id, out var d))
                {
                    return Problem(404, "document_not_found");
                }

                if (d.Status == DocumentStatus.AwaitingScan)
                {
                    // As IngestService: a document awaiting its malware scan is never claimed.
                    d.NotScannedClaims++;
                    return Problem(409, "document_not_scanned");
                }

                if (!DocumentStatus.IsTerminal(d.Status))
                {
                    d.LeaseToken++;
                    d.Status = DocumentStatus.Processing;
                }

                d.Claims.Add((request!.WorkerId, d.LeaseToken, DateTimeOffset.UtcNow));
                var response = new ClaimResponse(d.Id, d.FileName, d.Status, d.LeaseToken, d.Content.Length,
                    PipelineStageNames.All.Where(d.Checkpoints.ContainsKey).ToList(), Options: d.Options);
                if (SupersedeEveryClaim)
                {
                    d.LeaseToken++;
                }

                return Results.Json(response, Json);
            }
        });
        documents.MapGet("content", (string id) =>
        {
            lock (_gate)
            {
                return _documents.TryGetValue(id, out var d) ? Results.Bytes(d.Content, "application/pdf") : Problem(404, "document_not_found");
            }
        });
        documents.MapMethods("stages/{stage}", [HttpMethods.Post, HttpMethods.Put], async (string id, string stage, HttpContext http) =>
        {
            var report = await http.Request.ReadFromJsonAsync<StageReport>(Json);
            return Write(id, stage, http, d =>
            {
                if (report?.Status is null || !StageStatus.IsKnown(report.Status))
                {
                    return Problem(400, "invalid_stage_status");
                }

                d.StageReports.Add((stage, report.Status, report.Detail));
                return Results.NoContent();
            });
        });
        documents.MapPost("stages/{stage}/progress", async (string id, string stage, HttpContext http) =>
        {
            var report = await http.Request.ReadFromJsonAsync<PageProgressReport>(Json);
            return Write(id, stage, http, d =>
            {
                if (report is null || report.Page < 1 || report.Page > report.Pages)
                {
                    return Problem(400, "invalid_progress");
                }

                // As IngestService: progress counts only while its stage runs.
                var running = d.StageReports.LastOrDefault(r => r.Stage == stage).Status == StageStatus.Running;
                d.PageProgress.Add((stage, report.Page, report.Pages, running));
                http.Response.Headers["X-Progress-Recorded"] = running ? "true" : "false";
                return Results.NoContent();
            });
        });
        documents.MapPut("checkpoints/{stage}", async (string id, string stage, HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            lock (_gate)
            {
                if (_documents.TryGetValue(id, out var target) && target.StorageOutageFailures > 0)
                {
                    // As IngestService answers while its storage root is gone.
                    target.StorageOutageFailures--;
                    return Problem(503, "storage_unavailable");
                }
            }

            return Write(id, stage, http, d =>
            {
                d.Checkpoints[stage] = bytes;
                d.CheckpointOptions[stage] = http.Request.Headers[InternalApi.CheckpointOptionsHeader].ToString();
                http.Response.Headers["X-Checksum-Sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
                return Results.NoContent();
            });
        });
        documents.MapGet("checkpoints/{stage}", (string id, string stage, HttpContext http) =>
        {
            lock (_gate)
            {
                if (!_documents.TryGetValue(id, out var d))
                {
                    return Problem(404, "document_not_found");
                }

                if (!d.Checkpoints.TryGetValue(stage, out var bytes))
                {
                    return Problem(404, "checkpoint_not_found");
                }

                d.CheckpointReads.Add(stage);
                http.Response.Headers["X-Checksum-Sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
                return Results.Bytes(bytes, "application/octet-stream");
            }
        });
        documents.MapPut("result", async (string id, HttpContext http) =>
        {
            // The whole body is read before any answer, so a failure injected here comes after the worker sent it all.
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            lock (_gate)
            {
                if (_documents.TryGetValue(id, out var target))
                {
                    target.ResultBodyBytes.Add(body.Length);
                    if (target.ResultFailuresToInject > 0)
                    {
                        target.ResultFailuresToInject--;
                        return Problem(503, "injected_failure");
                    }
                }
            }

            var result = JsonSerializer.Deserialize<ResultSubmission>(body.ToArray(), Json);
            return Write(id, null, http, d =>
            {
                d.Status = DocumentStatus.Completed;
                d.Result = result;
                return Results.Ok();
            }, allowSameResult: result);
        });
        documents.MapPost("lease", (string id, HttpContext http) =>
        {
            lock (_gate)
            {
                if (!_documents.TryGetValue(id, out var d))
                {
                    return Problem(404, "document_not_found");
                }

                var header = http.Request.Headers[InternalApi.LeaseTokenHeader].ToString();
                if (!long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var lease) || lease != d.LeaseToken)
                {
                    d.StaleWrites++;
                    return Problem(409, "stale_lease");
                }

                d.Heartbeats++;
                return Results.Json(new LeaseStatus(d.Id, d.Status, d.LeaseToken), Json);
            }
        });
        documents.MapPost("release", async (string id, HttpContext http) =>
        {
            var report = await http.Request.ReadFromJsonAsync<ReleaseReport>(Json);
            return Write(id, null, http, d =>
            {
                d.Status = DocumentStatus.Queued;
                d.Releases.Add(report!);
                return Results.NoContent();
            });
        });
        documents.MapPost("failure", async (string id, HttpContext http) =>
        {
            var failure = await http.Request.ReadFromJsonAsync<FailureReport>(Json);
            return Write(id, null, http, d =>
            {
                d.Status = DocumentStatus.Failed;
                d.Failure = failure;
                return Results.Ok();
            });
        });
    }

    /// <summary>A lease-fenced write: the current lease token, a document that is not finished yet.</summary>
    private IResult Write(string id, string? stage, HttpContext http, Func<FakeDocument, IResult> apply, ResultSubmission? allowSameResult = null)
    {
        lock (_gate)
        {
            if (!_documents.TryGetValue(id, out var d))
            {
                return Problem(404, "document_not_found");
            }

            if (stage is not null && !PipelineStageNames.All.Contains(stage))
            {
                return Problem(400, "unknown_stage");
            }

            var header = http.Request.Headers[InternalApi.LeaseTokenHeader].ToString();
            if (!long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var lease) || lease != d.LeaseToken)
            {
                d.StaleWrites++;
                return Problem(409, "stale_lease");
            }

            if (DocumentStatus.IsTerminal(d.Status))
            {
                return allowSameResult is not null && allowSameResult == d.Result ? Results.Ok() : Problem(409, "document_terminal");
            }

            return apply(d);
        }
    }

    private static IResult Problem(int status, string code) => Results.Problem(
        statusCode: status,
        title: code,
        detail: $"Test double of IngestService: {code}",
        extensions: new Dictionary<string, object?> { ["code"] = code });
}

internal sealed class FakeDocument(string id, string fileName, byte[] content)
{
    public string Id { get; } = id;

    public string FileName { get; } = fileName;

    public byte[] Content { get; } = content;

    public string Status { get; set; } = DocumentStatus.Queued;

    public long LeaseToken { get; set; }

    public List<(string WorkerId, long Lease, DateTimeOffset At)> Claims { get; } = [];

    public List<(string Stage, string Status, string? Detail)> StageReports { get; } = [];

    /// <summary>Page progress reports, and whether their stage was running when each arrived.</summary>
    public List<(string Stage, int Page, int Pages, bool WhileRunning)> PageProgress { get; } = [];

    public Dictionary<string, byte[]> Checkpoints { get; } = [];

    /// <summary>The X-Checkpoint-Options fingerprint each checkpoint was stored with ("" without one).</summary>
    public Dictionary<string, string> CheckpointOptions { get; } = [];

    /// <summary>The pipeline options the claim hands out (null: none, as from an ingest before options).</summary>
    public DocumentOptions? Options { get; set; }

    public List<string> CheckpointReads { get; } = [];

    public ResultSubmission? Result { get; set; }

    public FailureReport? Failure { get; set; }

    public int StaleWrites { get; set; }

    public int Heartbeats { get; set; }

    /// <summary>Claims refused with 409 document_not_scanned while the document was awaiting its scan.</summary>
    public int NotScannedClaims { get; set; }

    public List<ReleaseReport> Releases { get; } = [];

    /// <summary>How many checkpoint writes to answer 503 storage_unavailable (IngestService's storage gone).</summary>
    public int StorageOutageFailures { get; set; }

    /// <summary>How many result submissions to answer 503 after reading their whole body.</summary>
    public int ResultFailuresToInject { get; set; }

    /// <summary>The size of every result body received, failed or not.</summary>
    public List<long> ResultBodyBytes { get; } = [];
}
