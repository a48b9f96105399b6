namespace IngestService.Catalog;

/// <summary>
/// What start-up found out about the catalog database (integrity, schema). A catalog that failed its check, or
/// that reported corruption later, stays unavailable: the service is not ready and does not write to it.
/// </summary>
internal sealed class CatalogState
{
    private volatile Snapshot _current = new(false, "the catalog has not been opened yet", null, null);

    public bool IsAvailable => _current.Available;

    public Snapshot Current => _current;

    public void MarkAvailable(string quickCheck, int schemaVersion) =>
        _current = new Snapshot(true, "catalog open", quickCheck, schemaVersion);

    public void MarkUnavailable(string reason, string? quickCheck = null) =>
        _current = new Snapshot(false, reason, quickCheck ?? _current.QuickCheck, _current.SchemaVersion);

    internal sealed record Snapshot(bool Available, string Description, string? QuickCheck, int? SchemaVersion);
}

/// <summary>The catalog cannot be used (failed its start-up check or reported corruption).</summary>
internal sealed class CatalogUnavailableException(string message) : Exception(message);
