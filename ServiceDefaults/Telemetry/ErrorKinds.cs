namespace Suite.ServiceDefaults.Telemetry;

/// <summary>
/// The kind of an error, as a metric label and a log field (<c>ErrorKind</c>), so that timeouts can be told apart from
/// every other failure at a glance (Req TMO-7): <c>timeout</c>, <c>client</c> (the request was wrong: 4xx),
/// <c>server</c> (the service or a dependency failed: 5xx and everything else).
/// </summary>
public static class ErrorKinds
{
    public const string Timeout = "timeout";
    public const string Client = "client";
    public const string Server = "server";

    /// <summary>The metric label / log field name.</summary>
    public const string Label = "kind";

    /// <summary>Timeouts by their code (any code naming a timeout) or status (408, 504); otherwise by status class.</summary>
    public static string Of(string? code, int? status = null)
    {
        if (IsTimeout(code) || status is 408 or 504)
        {
            return Timeout;
        }

        return status is >= 400 and < 500 ? Client : Server;
    }

    public static bool IsTimeout(string? code) =>
        code is not null && code.Contains("timeout", StringComparison.OrdinalIgnoreCase);
}
