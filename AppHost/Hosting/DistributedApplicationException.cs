namespace Suite.AppHost.Hosting;

/// <summary>The application cannot start or run as configured; the message says what to do about it.</summary>
public sealed class DistributedApplicationException : Exception
{
    public DistributedApplicationException()
    {
    }

    public DistributedApplicationException(string message)
        : base(message)
    {
    }

    public DistributedApplicationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
