using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.ServiceDefaults.Http;

using Suite.ServiceDefaults.Problems;

namespace Suite.PipelineWorker.Ingest;

/// <summary>
/// IngestService's internal API, as the worker uses it (routes and DTOs from <see cref="InternalApi"/>).
/// Every write carries the lease token; writes the receiver deduplicates (stage reports, checkpoints, the result)
/// also carry an Idempotency-Key so the resilience handler may retry them. A 409 means a newer lease exists
/// and surfaces as <see cref="LeaseLostException"/> (or <see cref="DocumentFinishedException"/> when the document is
/// already finished); 5xx/408/429 after retries as <see cref="HttpRequestException"/>.
/// </summary>
internal sealed class IngestClient(HttpClient http)
{
    /// <summary>
    /// Takes a lease on the document, expiring <paramref name="leaseSeconds"/> after the last renewal. Null when ingest
    /// does not know the document (404); <see cref="LeaseHeldException"/> when another worker's lease is live.
    /// </summary>
    public async Task<ClaimResponse?> ClaimAsync(string documentId, string workerId, int leaseSeconds, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(InternalApi.Claim(documentId), new ClaimRequest(workerId, leaseSeconds), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            var (code, detail, _) = await ReceivedProblem.ReadAsync(response, cancellationToken);
            if (code == "lease_held")
            {
                throw new LeaseHeldException(documentId, detail, response.Headers.RetryAfter?.Delta);
            }

            if (code == "document_not_scanned")
            {
                // Awaiting its malware scan: never processed before it is clean. The job waits (no attempt counted);
                // the scan enqueues the document again once it is clean.
                throw new IngestRejectedException($"IngestService refused the claim of document {documentId}: {code} {detail}", response.StatusCode, code);
            }
        }

        await EnsureSuccessAsync(response, documentId, "claim", cancellationToken);
        return await response.Content.ReadFromJsonAsync<ClaimResponse>(cancellationToken)
            ?? throw new HttpRequestException("IngestService answered the claim with an empty body.");
    }

    /// <summary>Streams the upload to <paramref name="destinationPath"/> and checks its length.</summary>
    public async Task DownloadContentAsync(string documentId, long leaseToken, string destinationPath, long expectedBytes, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, InternalApi.Content(documentId));
        AddLease(request, leaseToken);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new PipelineFailure(FailureCodes.ContentMissing, "The uploaded file is missing from storage. Upload the document again.");
        }

        await EnsureSuccessAsync(response, documentId, "content download", cancellationToken);
        long written;
        await using (var source = await response.Content.ReadAsStreamAsync(cancellationToken))
        await using (var target = new FileStream(destinationPath, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
        {
            await source.CopyToAsync(target, cancellationToken);
            written = target.Length;
        }

        if (expectedBytes >= 0 && written != expectedBytes)
        {
            // A cut connection can end a body early without an error: treat as transient, the job is redelivered.
            throw new IOException($"Downloaded {written} bytes of document {documentId}, expected {expectedBytes}.");
        }
    }

    public async Task ReportStageAsync(string documentId, long leaseToken, string stage, StageReport report, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, InternalApi.Stage(documentId, stage))
        {
            Content = JsonContent.Create(report),
        };
        AddLease(request, leaseToken);
        request.Headers.SetIdempotencyKey(Key(documentId, leaseToken, "stage", stage, report.Status));
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, documentId, $"stage report {stage}={report.Status}", cancellationToken);
    }

    /// <summary>Pages of a running stage done so far (best effort: the caller ignores failures; not retried by the handler).</summary>
    public async Task ReportPageProgressAsync(string documentId, long leaseToken, string stage, PageProgressReport report, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, InternalApi.StageProgress(documentId, stage))
        {
            Content = JsonContent.Create(report),
        };
        AddLease(request, leaseToken);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, documentId, $"page progress {stage} {report.Page}/{report.Pages}", cancellationToken);
    }

    /// <summary>
    /// Stores a stage's checkpoint, streamed from the file (seekable, so a retry can resend it), with the fingerprint of
    /// the document options it was made under (Req FMT-4).
    /// </summary>
    public async Task PutCheckpointAsync(
        string documentId, long leaseToken, string stage, string checkpointPath, CancellationToken cancellationToken, string? optionsFingerprint = null)
    {
        await using var file = new FileStream(checkpointPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        using var request = new HttpRequestMessage(HttpMethod.Put, InternalApi.Checkpoint(documentId, stage))
        {
            Content = new StreamContent(file),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentLength = file.Length;
        request.Headers.TryAddWithoutValidation(InternalApi.CheckpointSchemaHeader, SchemaVersion);
        if (optionsFingerprint is not null)
        {
            request.Headers.TryAddWithoutValidation(InternalApi.CheckpointOptionsHeader, optionsFingerprint);
        }

        AddLease(request, leaseToken);
        request.Headers.SetIdempotencyKey(Key(documentId, leaseToken, "checkpoint", stage));
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, documentId, $"checkpoint {stage}", cancellationToken);

        // IngestService answers with the checksum it stored; a mismatch means the bytes were damaged on the way.
        if (Checksum(response) is { } stored)
        {
            file.Position = 0;
            var local = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
            if (!string.Equals(stored, local, StringComparison.OrdinalIgnoreCase))
            {
                throw new IOException($"Checkpoint {stage} of document {documentId} was stored with checksum {stored}, expected {local}.");
            }
        }
    }

    /// <summary>
    /// Downloads a stage's checkpoint to <paramref name="destinationPath"/>. False when there is none (404, including
    /// one IngestService found damaged or of another schema version and quarantined) or when its bytes do not match
    /// the checksum IngestService recorded: then the stage simply runs again.
    /// </summary>
    public async Task<bool> GetCheckpointAsync(
        string documentId, long leaseToken, string stage, string destinationPath, CancellationToken cancellationToken, string? optionsFingerprint = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, InternalApi.Checkpoint(documentId, stage));
        request.Headers.TryAddWithoutValidation(InternalApi.CheckpointSchemaHeader, SchemaVersion);
        if (optionsFingerprint is not null)
        {
            // A checkpoint of other options answers 404, so the stage runs again under this document's options.
            request.Headers.TryAddWithoutValidation(InternalApi.CheckpointOptionsHeader, optionsFingerprint);
        }

        AddLease(request, leaseToken);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, documentId, $"checkpoint {stage} download", cancellationToken);
        string local;
        await using (var source = await response.Content.ReadAsStreamAsync(cancellationToken))
        await using (var target = new FileStream(destinationPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 64 * 1024, useAsync: true))
        {
            await source.CopyToAsync(target, cancellationToken);
            target.Position = 0;
            local = Convert.ToHexStringLower(await SHA256.HashDataAsync(target, cancellationToken));
        }

        if (Checksum(response) is { } expected && !string.Equals(expected, local, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(destinationPath);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Heartbeat: renews the lease and returns the document's status (the worker stops when it is cancelled).
    /// <see cref="LeaseLostException"/> when another claim took the document over.
    /// </summary>
    public async Task<LeaseStatus> RenewLeaseAsync(string documentId, long leaseToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, InternalApi.Lease(documentId));
        AddLease(request, leaseToken);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, documentId, "lease renewal", cancellationToken);
        return await response.Content.ReadFromJsonAsync<LeaseStatus>(cancellationToken)
            ?? throw new HttpRequestException("IngestService answered the lease renewal with an empty body.");
    }

    /// <summary>This attempt failed transiently and the job waits in the retry set: the document is queued again.</summary>
    public async Task ReleaseAsync(string documentId, long leaseToken, ReleaseReport report, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, InternalApi.Release(documentId))
        {
            Content = JsonContent.Create(report),
        };
        AddLease(request, leaseToken);
        request.Headers.SetIdempotencyKey(Key(documentId, leaseToken, "release"));
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, documentId, "release", cancellationToken);
    }

    /// <summary>
    /// Stores the result; this completes the document. The body is the assemble checkpoint file as it is (a
    /// <see cref="ResultSubmission"/> JSON object), streamed from disk; a retry sends it again from its start.
    /// </summary>
    public async Task SubmitResultAsync(string documentId, long leaseToken, string submissionPath, CancellationToken cancellationToken)
    {
        await using var body = new FileStream(submissionPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        using var request = new HttpRequestMessage(HttpMethod.Put, InternalApi.Result(documentId))
        {
            Content = new StreamContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        AddLease(request, leaseToken);
        request.Headers.SetIdempotencyKey(Key(documentId, leaseToken, "result"));
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, documentId, "result", cancellationToken);
    }

    /// <summary>Ends the document as failed with a permanent failure code.</summary>
    public async Task ReportFailureAsync(string documentId, long leaseToken, FailureReport failure, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, InternalApi.Failure(documentId))
        {
            Content = JsonContent.Create(failure),
        };
        AddLease(request, leaseToken);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, documentId, "failure report", cancellationToken);
    }

    /// <summary>Header with a checkpoint's SHA-256 (lowercase hex) as IngestService recorded it.</summary>
    public const string ChecksumHeader = InternalApi.ChecksumHeader;

    /// <summary>The checkpoint schema this build writes and reads; a stored checkpoint of another version is recomputed.</summary>
    private static readonly string SchemaVersion = Checkpoints.FormatVersion.ToString(CultureInfo.InvariantCulture);

    private static string? Checksum(HttpResponseMessage response) =>
        response.Headers.TryGetValues(ChecksumHeader, out var values) ? values.FirstOrDefault() : null;

    private static void AddLease(HttpRequestMessage request, long leaseToken) =>
        request.Headers.TryAddWithoutValidation(InternalApi.LeaseTokenHeader, leaseToken.ToString(CultureInfo.InvariantCulture));

    private static string Key(string documentId, long leaseToken, params string[] parts) =>
        string.Join(':', [documentId, leaseToken.ToString(CultureInfo.InvariantCulture), .. parts]);

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string documentId, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var (code, detail, retryAfter) = await ReceivedProblem.ReadAsync(response, cancellationToken);
        var status = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            // document_terminal / result_conflict: the document is finished, the job is done. Anything else
            // (stale_lease): another worker holds a newer lease.
            throw code is "document_terminal" or "result_conflict"
                ? new DocumentFinishedException(documentId, code, detail)
                : new LeaseLostException(documentId, code ?? "conflict", detail);
        }

        var message = $"IngestService refused the {what} of document {documentId}: {status} {code} {detail}".TrimEnd();
        if (code is not null && InternalApi.ServiceUnavailableCodes.Contains(code))
        {
            throw new IngestUnavailableException(message, code, retryAfter);
        }

        if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
        {
            throw new HttpRequestException(message, null, response.StatusCode);
        }

        throw new IngestRejectedException(message, response.StatusCode, code);
    }
}
