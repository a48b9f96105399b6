using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Suite.ServiceDefaults.Telemetry;

/// <summary>
/// Counts every problem+json answer a service writes, labelled with its stable <c>code</c>, its <c>status</c> and its
/// <c>kind</c> (<see cref="ErrorKinds"/>): meter <c>Suite.Http</c>, counter <c>suite.http.problems</c> (Prometheus
/// <c>suite_http_problems_total</c>). Requests as a whole are counted by ASP.NET Core's
/// <c>http.server.request.duration</c>. A timeout answer is also logged with the field <c>ErrorKind=timeout</c>.
/// </summary>
public sealed partial class ProblemMetrics
{
    public const string MeterName = "Suite.Http";
    public const string CounterName = "suite.http.problems";

    private readonly Counter<long> _problems;
    private readonly ILogger<ProblemMetrics> _logger;

    public ProblemMetrics(IMeterFactory meterFactory, ILogger<ProblemMetrics> logger)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _logger = logger;
        _problems = meterFactory.Create(MeterName).CreateCounter<long>(
            CounterName, "{response}", "Error answers (problem+json) by code, status and kind (timeout, client, server)");
    }

    public void Record(string code, int status, string path)
    {
        var kind = ErrorKinds.Of(code, status);
        _problems.Add(
            1,
            new KeyValuePair<string, object?>("code", code),
            new KeyValuePair<string, object?>("status", status.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new KeyValuePair<string, object?>(ErrorKinds.Label, kind));
        if (kind == ErrorKinds.Timeout)
        {
            LogTimeout(_logger, status, code, kind, path);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answered {Status} {Code} ({ErrorKind}) on {Path}")]
    private static partial void LogTimeout(ILogger logger, int status, string code, string errorKind, string path);
}
