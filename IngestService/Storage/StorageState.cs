namespace IngestService.Storage;

/// <summary>
/// Whether the storage root has been checked writable (the start-up step "checking storage"). Until it has, requests
/// that need storage answer 503 <c>storage_unavailable</c> and readiness gives the reason, naming Storage:Root.
/// </summary>
internal sealed class StorageState
{
    private volatile Snapshot _current = new(false, "the storage root has not been checked yet");

    public bool IsReady => _current.Ready;

    /// <summary>Why storage is not ready (for operators: it names Storage:Root and the path), or "ready".</summary>
    public string Description => _current.Description;

    public void MarkReady() => _current = new Snapshot(true, "ready");

    public void MarkUnavailable(string reason) => _current = new Snapshot(false, reason);

    private sealed record Snapshot(bool Ready, string Description);
}
