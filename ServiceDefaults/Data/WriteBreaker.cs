using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Suite.ServiceDefaults.Resilience;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// Read-only mode (Req CB-5): a Polly circuit breaker around every write of one database. Writes that fail for reasons
/// waiting cannot fix (<see cref="SqliteErrors.IsWriteFailure"/>) open it; while it is open every write fails at once with
/// <see cref="DatabaseReadOnlyException"/> and reads go on. After the break the next write is the probe: it closes the
/// breaker when it succeeds. Transitions feed <see cref="CircuitBreakerStates"/> (gauge <c>suite.circuit_breaker.state</c>).
/// </summary>
internal sealed partial class WriteBreaker
{
    private readonly ResiliencePipeline _pipeline;
    private readonly string _database;
    private readonly string _dependency;
    private readonly TimeProvider _time;
    private readonly CircuitBreakerStates? _states;
    private readonly ILogger _logger;
    private volatile ReadOnlyStatus? _status;

    public WriteBreaker(string database, string dependency, WriteBreakerOptions options, TimeProvider time, ILoggerFactory loggerFactory, CircuitBreakerStates? states)
    {
        _database = database;
        _dependency = dependency;
        _time = time;
        _states = states;
        _logger = loggerFactory.CreateLogger<WriteBreaker>();
        states?.Register(dependency);
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(options.SamplingDurationSeconds),
                BreakDuration = TimeSpan.FromSeconds(options.BreakDurationSeconds),
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && SqliteErrors.IsWriteFailure(ex)),
                OnOpened = args =>
                {
                    Open(args.Outcome.Exception, args.BreakDuration);
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    _states?.HalfOpened(_dependency);
                    return default;
                },
                OnClosed = _ =>
                {
                    _status = null;
                    _states?.Closed(_dependency);
                    LogWritable(_logger, _database);
                    return default;
                },
            })
            .WithSuiteTelemetry(dependency, loggerFactory)
            .Build();
    }

    /// <summary>Set from the moment the breaker opens until a probe write succeeds (also while half-open).</summary>
    public ReadOnlyStatus? Status => _status;

    /// <summary>The refusal a write gets now, or null while writes go through (closed, or the break is over and a write may probe).</summary>
    public DatabaseReadOnlyException? Refusal()
    {
        var now = _time.GetUtcNow();
        return _status is { } status && now < status.ProbeAt ? new DatabaseReadOnlyException(status, status.RetryAfter(now)) : null;
    }

    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(static async (run, token) => await run(token), write, cancellationToken);
        }
        catch (BrokenCircuitException)
        {
            // Open, or half-open with another write probing already.
            var now = _time.GetUtcNow();
            var status = _status ?? new ReadOnlyStatus(_database, "writes failed repeatedly", false, now, now);
            throw new DatabaseReadOnlyException(status, status.RetryAfter(now));
        }
    }

    private void Open(Exception? cause, TimeSpan breakDuration)
    {
        var now = _time.GetUtcNow();
        var diskFull = cause is not null && StorageErrors.IsDiskFull(cause);
        var reason = diskFull
            ? $"the {_database}'s disk is full"
            : $"the {_database} cannot be written: {cause?.Message ?? "unknown error"}";
        _status = new ReadOnlyStatus(_database, reason, diskFull, _status?.Since ?? now, now + breakDuration);
        _states?.Opened(_dependency, breakDuration);
        LogReadOnly(_logger, _database, breakDuration.TotalSeconds, reason);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The {Database} is in READ-ONLY mode for {BreakSeconds} s (then the next write probes): {Reason}. Reads go on; writes fail at once.")]
    private static partial void LogReadOnly(ILogger logger, string database, double breakSeconds, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Database} is writable again: a probe write succeeded")]
    private static partial void LogWritable(ILogger logger, string database);
}
