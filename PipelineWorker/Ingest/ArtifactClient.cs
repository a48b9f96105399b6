using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Suite.Contracts;
using Suite.PipelineWorker.Ingest;
using Suite.PipelineWorker.Stages;
using Suite.ServiceDefaults.Http;
using Suite.ServiceDefaults.Problems;

namespace Suite.PipelineWorker.Ingest;

/// <summary>IngestService refused an artifact for a reason retrying cannot fix (4xx): the stage degrades.</summary>
internal sealed class ArtifactRejectedException(string message) : Exception(message)
{
    public ArtifactRejectedException()
        : this("IngestService refused the artifact.")
    {
    }

    public ArtifactRejectedException(string message, Exception innerException)
        : this(message + " " + innerException?.Message)
    {
    }
}

/// <summary>
/// Stores stage artifacts (rendered pages, picture files) through IngestService's internal API
/// (<see cref="InternalApi.PageImageArtifact"/>, <see cref="InternalApi.PictureArtifact"/>): workers never touch
/// ingest's files. Every PUT carries the lease token and an Idempotency-Key, so the resilience handler may retry it.
/// Outcomes: stored; 409 stale_lease -> <see cref="LeaseLostException"/> (another worker owns the document: stop);
/// 409 document_terminal -> <see cref="DocumentFinishedException"/>; 5xx/network after retries -> IOException
/// (transient: the job is redelivered); other 4xx -> <see cref="ArtifactRejectedException"/> (the stage degrades).
/// In a local run (no lease) artifacts are copied to <see cref="StageContext.ArtifactDirectory"/> when set.
/// </summary>
internal sealed class ArtifactClient(HttpClient http)
{
    /// <summary>Stores a rendered page. False when there is nowhere to store it (a local run without an artifact folder).</summary>
    public Task<bool> PutPageImageAsync(StageContext context, int pageNumber, string file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return PutAsync(
            context,
            InternalApi.PageImageArtifact(context.DocumentId, pageNumber),
            Path.Combine("pages", pageNumber.ToString(CultureInfo.InvariantCulture) + ".png"),
            file,
            "image/png",
            cancellationToken);
    }

    public Task<bool> PutPictureAsync(StageContext context, string pictureId, string file, string contentType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return PutAsync(
            context,
            InternalApi.PictureArtifact(context.DocumentId, pictureId),
            Path.Combine("pictures", pictureId + (contentType == "image/jpeg" ? ".jpg" : ".png")),
            file,
            contentType,
            cancellationToken);
    }

    /// <summary>Downloads a picture stored by an earlier attempt (after a resume on another worker). False when absent.</summary>
    public async Task<bool> TryGetPictureAsync(StageContext context, string pictureId, string destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.LeaseToken <= 0)
        {
            var local = context.ArtifactDirectory is null
                ? null
                : new[] { ".png", ".jpg" }.Select(e => Path.Combine(context.ArtifactDirectory, "pictures", pictureId + e)).FirstOrDefault(File.Exists);
            if (local is null)
            {
                return false;
            }

            File.Copy(local, destination, overwrite: true);
            return true;
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, InternalApi.PictureArtifact(context.DocumentId, pictureId));
            request.Headers.TryAddWithoutValidation(InternalApi.LeaseTokenHeader, context.LeaseToken.ToString(CultureInfo.InvariantCulture));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }

            await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
            await using var target = File.Create(destination);
            await source.CopyToAsync(target, cancellationToken);
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private async Task<bool> PutAsync(StageContext context, string route, string localName, string file, string contentType, CancellationToken cancellationToken)
    {
        if (context.LeaseToken <= 0)
        {
            if (context.ArtifactDirectory is null)
            {
                return false;
            }

            var target = Path.Combine(context.ArtifactDirectory, localName);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            return true;
        }

        var lease = context.LeaseToken.ToString(CultureInfo.InvariantCulture);
        try
        {
            await using var content = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
            using var request = new HttpRequestMessage(HttpMethod.Put, route) { Content = new StreamContent(content) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            request.Content.Headers.ContentLength = content.Length;
            request.Headers.TryAddWithoutValidation(InternalApi.LeaseTokenHeader, lease);
            request.Headers.SetIdempotencyKey($"{context.DocumentId}:{lease}:artifact:{localName.Replace('\\', '/')}");
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }

            var (code, detail, retryAfter) = await ReceivedProblem.ReadAsync(response, cancellationToken);
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                throw code == "stale_lease"
                    ? new LeaseLostException(context.DocumentId, code, detail)
                    : new DocumentFinishedException(context.DocumentId, code ?? "document_terminal", detail);
            }

            if (code is not null && InternalApi.ServiceUnavailableCodes.Contains(code))
            {
                throw new IngestUnavailableException(
                    $"IngestService could not store {localName} of document {context.DocumentId}: {status} {code} {detail}".TrimEnd(), code, retryAfter);
            }

            if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
            {
                throw new IOException($"IngestService could not store {localName} of document {context.DocumentId}: {status} {code} {detail}".TrimEnd());
            }

            throw new ArtifactRejectedException($"IngestService refused {localName}: {status} {code ?? response.ReasonPhrase}".TrimEnd());
        }
        catch (Polly.CircuitBreaker.BrokenCircuitException ex)
        {
            throw new IngestUnavailableException(
                $"IngestService could not be asked to store {localName} of document {context.DocumentId}: its client's circuit breaker is open.", "circuit_open", ex.RetryAfter);
        }
        catch (Exception ex) when (ex is HttpRequestException or Polly.Timeout.TimeoutRejectedException
                                   || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Network failures, timeouts or an open breaker after the handler's retries: transient for the job
            // (it is redelivered and resumes from the last checkpoint).
            throw new IOException($"IngestService could not be reached to store {localName} of document {context.DocumentId}: {ex.Message}", ex);
        }
    }
}
