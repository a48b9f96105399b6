namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// A start-up step found something retrying cannot fix (a damaged database, a schema newer than the code): start-up
/// stops there and the service stays live but not ready, with this message as the reason.
/// </summary>
public sealed class StartupFailedException : Exception
{
    public StartupFailedException()
    {
    }

    public StartupFailedException(string message)
        : base(message)
    {
    }

    public StartupFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
