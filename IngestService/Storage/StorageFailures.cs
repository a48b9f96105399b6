namespace IngestService.Storage;

/// <summary>Classifies file-system failures so clients get 507 for a full disk and 503 otherwise.</summary>
internal static class StorageFailures
{
    private const int EnospcLinux = 28;          // ENOSPC as .NET reports it on Unix (HResult = errno)
    private const int EdquotLinux = 122;         // EDQUOT: quota exceeded
    private const int DiskFullWindows = unchecked((int)0x80070070);
    private const int HandleDiskFullWindows = unchecked((int)0x80070027);

    public static bool IsDiskFull(IOException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.HResult is EnospcLinux or EdquotLinux or DiskFullWindows or HandleDiskFullWindows;
    }
}
