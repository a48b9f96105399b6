using System.Globalization;

namespace Suite.ServiceDefaults.Data;

/// <summary>Why a database is in read-only mode, since when, and when the next write may probe.</summary>
public sealed record ReadOnlyStatus(string Database, string Reason, bool DiskFull, DateTimeOffset Since, DateTimeOffset ProbeAt)
{
    /// <summary>The wait until the probe, at least one second (a Retry-After of 0 invites a busy loop).</summary>
    public TimeSpan RetryAfter(DateTimeOffset now) =>
        ProbeAt - now is var left && left > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(Math.Ceiling(left.TotalSeconds)) : TimeSpan.FromSeconds(1);

    public string Describe(TimeSpan retryAfter) =>
        $"The {Database} is in read-only mode because writes failed: {Reason}. Reads still work; the next write after " +
        $"{Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s probes whether writing works again.";
}
