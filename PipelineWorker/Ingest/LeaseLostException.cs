using System.Net;

namespace Suite.PipelineWorker.Ingest;

/// <summary>
/// IngestService refused a write because a newer lease exists (409, code <c>stale_lease</c>): another worker
/// owns the document now. The worker abandons the job without acknowledging it.
/// </summary>
internal sealed class LeaseLostException : Exception
{
    public LeaseLostException(string documentId, string code, string? detail)
        : base($"Lease on document {documentId} lost ({code}){(detail is null ? "" : ": " + detail)}")
    {
        DocumentId = documentId;
        Code = code;
    }

    public LeaseLostException()
        : this("?", "stale_lease", null)
    {
    }

    public LeaseLostException(string message)
        : base(message)
    {
        DocumentId = "?";
        Code = "stale_lease";
    }

    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
        DocumentId = "?";
        Code = "stale_lease";
    }

    public string DocumentId { get; } = "?";

    public string Code { get; } = "stale_lease";
}

/// <summary>
/// IngestService rejected a request as invalid (4xx other than 409/408/429): a contract mismatch between the
/// services, not a property of the document. Logged loudly; the job stays pending.
/// </summary>
internal sealed class IngestRejectedException : Exception
{
    public IngestRejectedException(string message, HttpStatusCode status, string? code)
        : base(message)
    {
        Status = status;
        Code = code;
    }

    public IngestRejectedException()
    {
    }

    public IngestRejectedException(string message)
        : base(message)
    {
    }

    public IngestRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public HttpStatusCode Status { get; }

    public string? Code { get; }
}

/// <summary>
/// IngestService refused a write because the document is already finished (409 <c>document_terminal</c> or
/// <c>result_conflict</c>): the job has nothing left to do and is acknowledged.
/// </summary>
internal sealed class DocumentFinishedException : Exception
{
    public DocumentFinishedException(string documentId, string code, string? detail)
        : base($"Document {documentId} is already finished ({code}){(detail is null ? "" : ": " + detail)}")
    {
        Code = code;
    }

    public DocumentFinishedException()
    {
    }

    public DocumentFinishedException(string message)
        : base(message)
    {
    }

    public DocumentFinishedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public string Code { get; } = "document_terminal";
}

/// <summary>
/// IngestService refused the claim (409 <c>lease_held</c>): another worker holds a live lease on the document, so this
/// delivery is a duplicate. The job is put back for later (not acknowledged): only a finished document ends a job.
/// </summary>
internal sealed class LeaseHeldException : Exception
{
    public LeaseHeldException(string documentId, string? detail, TimeSpan? retryAfter)
        : base($"Document {documentId} is held by another worker's live lease{(detail is null ? "" : ": " + detail)}")
    {
        RetryAfter = retryAfter;
    }

    public LeaseHeldException()
    {
    }

    public LeaseHeldException(string message)
        : base(message)
    {
    }

    public LeaseHeldException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>When the holder's lease expires unless renewed.</summary>
    public TimeSpan? RetryAfter { get; }
}
