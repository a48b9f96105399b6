namespace LabelingBridge.LabelStudio;

public enum CredentialStatus
{
    Unknown,
    Valid,
    Rejected,
}

public sealed record CredentialSnapshot(CredentialStatus Status, DateTimeOffset? Since, int? HttpStatus, string? Detail)
{
    public string StatusName => Status.ToString().ToLowerInvariant();
}

/// <summary>
/// Whether Label Studio accepts the configured credentials. Once rejected (401/403), nothing but the periodic probe
/// talks to Label Studio until it accepts them again (DEG-2: no retry storm).
/// </summary>
public sealed partial class CredentialState(TimeProvider time, ILogger<CredentialState> logger)
{
    private readonly Lock _gate = new();
    private CredentialSnapshot _current = new(CredentialStatus.Unknown, null, null, null);

    /// <summary>Raised when credentials that were rejected work again.</summary>
    public event Action? Recovered;

    public CredentialSnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    public bool IsRejected => Current.Status == CredentialStatus.Rejected;

    public void MarkRejected(int httpStatus, string? detail)
    {
        lock (_gate)
        {
            if (_current.Status == CredentialStatus.Rejected)
            {
                return;
            }

            _current = new CredentialSnapshot(CredentialStatus.Rejected, time.GetUtcNow(), httpStatus, detail);
        }

        LogRejected(logger, httpStatus, detail ?? "");
    }

    public void MarkValid()
    {
        bool recovered;
        lock (_gate)
        {
            if (_current.Status == CredentialStatus.Valid)
            {
                return;
            }

            recovered = _current.Status == CredentialStatus.Rejected;
            _current = new CredentialSnapshot(CredentialStatus.Valid, time.GetUtcNow(), null, null);
        }

        if (recovered)
        {
            LogRecovered(logger);
            Recovered?.Invoke();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Label Studio REJECTED the bridge's credentials (HTTP {HttpStatus}: {Detail}). Set LabelStudio:ApiKey to a valid token; exports are held until a probe succeeds")]
    private static partial void LogRejected(ILogger logger, int httpStatus, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Label Studio accepts the bridge's credentials again; held exports resume")]
    private static partial void LogRecovered(ILogger logger);
}
