using System.Diagnostics.Metrics;

namespace Gateway.FrontDoor;

/// <summary>What the front door refuses, counted (exported because the meter's name starts with "Suite.").</summary>
internal sealed class FrontDoorMetrics : IDisposable
{
    public const string MeterName = "Suite.Gateway";

    /// <summary>Tag naming the client (the API key's configured name, else "anonymous").</summary>
    public const string ClientTag = "suite.client";

    /// <summary>The <see cref="ClientTag"/> of a request without a valid key: one series for all of them.</summary>
    public const string Anonymous = "anonymous";

    private readonly Meter _meter;
    private readonly Counter<long> _authenticationFailures;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _refusedPaths;

    public FrontDoorMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _authenticationFailures = _meter.CreateCounter<long>("gateway.auth.failures", description: "Requests refused for a missing or unknown API key");
        _rateLimited = _meter.CreateCounter<long>("gateway.rate_limited", description: "Requests refused by the per-client rate limits");
        _refusedPaths = _meter.CreateCounter<long>("gateway.paths.refused", description: "Requests refused for an ambiguous path (encoded separators, dot segments)");
    }

    public void AuthenticationFailed(string reason) => _authenticationFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void RateLimited(string policy, string client) =>
        _rateLimited.Add(1, new KeyValuePair<string, object?>("policy", policy), new KeyValuePair<string, object?>(ClientTag, client));

    public void PathRefused() => _refusedPaths.Add(1);

    public void Dispose() => _meter.Dispose();
}
