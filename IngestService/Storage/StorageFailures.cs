using Suite.ServiceDefaults.Data;

namespace IngestService.Storage;

/// <summary>Classifies file-system failures so clients get 507 for a full disk and 503 otherwise.</summary>
internal static class StorageFailures
{
    public static bool IsDiskFull(IOException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return StorageErrors.IsDiskFull(exception);
    }
}
