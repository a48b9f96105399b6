namespace Suite.PipelineWorker.Ingest;

/// <summary>
/// IngestService refused a call because it cannot serve any right now (a code of
/// <see cref="Suite.Contracts.InternalApi.ServiceUnavailableCodes"/>: its storage gone, its catalog read-only or full,
/// a shutdown). Transient like any I/O failure, but not the document's fault: the job waits for IngestService without
/// spending one of the document's deliveries, so an outage of any length dead-letters nothing.
/// </summary>
internal sealed class IngestUnavailableException : IOException
{
    public IngestUnavailableException(string message, string code, TimeSpan? retryAfter)
        : base(message)
    {
        Code = code;
        RetryAfter = retryAfter;
    }

    public IngestUnavailableException()
        : this("IngestService is unavailable.", "storage_unavailable", null)
    {
    }

    public IngestUnavailableException(string message)
        : this(message, "storage_unavailable", null)
    {
    }

    public IngestUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = "storage_unavailable";
    }

    public string Code { get; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>
    /// The exception itself or the first of its inner exceptions that is one; or, for an open circuit breaker met
    /// outside a stage (where the only breaker is the IngestService client's: stages degrade on their engines' own),
    /// one that says so.
    /// </summary>
    public static IngestUnavailableException? Find(Exception? exception)
    {
        if (exception is Polly.CircuitBreaker.BrokenCircuitException open)
        {
            return new IngestUnavailableException("IngestService failed repeatedly; its client's circuit breaker is open.", "circuit_open", open.RetryAfter);
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is IngestUnavailableException unavailable)
            {
                return unavailable;
            }
        }

        return null;
    }
}
