using System.Globalization;

namespace Suite.ServiceDefaults.Data;

/// <summary>Start-up checks of <see cref="SqliteDatabaseOptions"/>, each failure naming its key (section:key and the environment variable).</summary>
public static class SqliteDatabaseOptionsValidation
{
    public static IReadOnlyList<string> Failures(SqliteDatabaseOptions options, string section)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.BusyTimeoutMilliseconds is < 1 or > SqliteDatabaseOptions.MaxBusyTimeoutMilliseconds)
        {
            failures.Add($"{Key(section, "BusyTimeoutMilliseconds")} must be 1 to {SqliteDatabaseOptions.MaxBusyTimeoutMilliseconds} " +
                         $"(it is {Text(options.BusyTimeoutMilliseconds)}): how long SQLite waits for a lock before it reports busy.");
        }

        if (options.CommandTimeoutSeconds is < 1 or > SqliteDatabaseOptions.MaxCommandTimeoutSeconds)
        {
            failures.Add($"{Key(section, "CommandTimeoutSeconds")} must be 1 to {SqliteDatabaseOptions.MaxCommandTimeoutSeconds} " +
                         $"(it is {Text(options.CommandTimeoutSeconds)}): the most one database operation may wait, retries included.");
        }

        if (options.MaxConnections is < 1 or > 1000)
        {
            failures.Add($"{Key(section, "MaxConnections")} must be 1 to 1000 (it is {Text(options.MaxConnections)}).");
        }

        if (options.BusyRetryAttempts is < 0 or > 10)
        {
            failures.Add($"{Key(section, "BusyRetryAttempts")} must be 0 to 10 (it is {Text(options.BusyRetryAttempts)}).");
        }

        var breaker = options.WriteBreaker;
        if (breaker.FailureRatio is <= 0 or > 1)
        {
            failures.Add($"{Key(section, "WriteBreaker:FailureRatio")} must be above 0 and at most 1.");
        }

        if (breaker.MinimumThroughput < 2)
        {
            failures.Add($"{Key(section, "WriteBreaker:MinimumThroughput")} must be at least 2.");
        }

        if (breaker.SamplingDurationSeconds is < 0.5 or > 3600 || breaker.BreakDurationSeconds is < 0.5 or > 3600)
        {
            failures.Add($"{Key(section, "WriteBreaker:SamplingDurationSeconds")} and {Key(section, "WriteBreaker:BreakDurationSeconds")} must be 0.5 to 3600.");
        }

        return failures;
    }

    private static string Key(string section, string key) => $"{section}:{key} (env {section}__{key.Replace(":", "__", StringComparison.Ordinal)})";

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
