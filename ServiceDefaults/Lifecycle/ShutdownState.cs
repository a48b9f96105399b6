using Microsoft.Extensions.Hosting;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// Whether shutdown has begun: from SIGTERM (ApplicationStopping) or from the drain's StoppingAsync, whichever comes
/// first (a host stopped by code, as in tests, runs StoppingAsync before it signals ApplicationStopping).
/// </summary>
public sealed class ShutdownState
{
    private int _begun;

    public ShutdownState(IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        lifetime.ApplicationStopping.Register(Begin);
    }

    public bool IsShuttingDown => Volatile.Read(ref _begun) == 1;

    public void Begin() => Interlocked.Exchange(ref _begun, 1);
}
