using IngestService.Catalog;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Events;

/// <summary>
/// Tells this replica's streams that their document (or client) has new events. It looks at the catalog's newest
/// progress events after every local commit, when another replica announces a change on the Redis channel
/// <c>suite:events</c> (PUBLISH after it saw new events of its own writes), and at least every
/// <c>Events:PollIntervalMs</c>; then it wakes the streams of the documents and clients concerned. The streams read
/// the catalog themselves and poll too, so neither Redis nor this pump is needed for correctness, only for latency.
/// </summary>
internal sealed partial class EventPump(
    CatalogDb db, EventSignals signals, IConnectionMultiplexer redis, IOptions<EventOptions> options, ILogger<EventPump> logger) : BackgroundService
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("suite:events");

    private const int BatchSize = 1000;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly WakeSignal _wake = new();
    private int _localCommits;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        db.Committed = () =>
        {
            Interlocked.Exchange(ref _localCommits, 1);
            _wake.Set();
        };

        // Subscribing waits for Redis; the pump never does (the streams poll meanwhile).
        _ = Task.Run(() => SubscribeAsync(stoppingToken), stoppingToken);
        var last = -1L;
        while (!stoppingToken.IsCancellationRequested)
        {
            _wake.Reset();
            var local = Interlocked.Exchange(ref _localCommits, 0) == 1;
            try
            {
                if (last < 0)
                {
                    last = await LastPositionAsync(stoppingToken);
                }
                else
                {
                    var seen = await WakeChangedAsync(last, stoppingToken);
                    if (seen > last && local)
                    {
                        Publish(seen);
                    }

                    last = seen;
                }
            }
            catch (Exception ex) when (ex is SqliteException or CatalogUnavailableException or InvalidOperationException)
            {
                LogReadFailed(ex.Message);
            }

            try
            {
                await _wake.WaitAsync(options.Value.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task<long> WakeChangedAsync(long after, CancellationToken ct)
    {
        while (true)
        {
            var (changes, last) = await db.ReadChangesAsync(after, BatchSize, ct);
            foreach (var (documentId, client) in changes)
            {
                signals.Notify(EventSignals.DocumentKey(documentId));
                if (client is not null)
                {
                    signals.Notify(EventSignals.ClientKey(client));
                }
            }

            if (changes.Count < BatchSize)
            {
                return Math.Max(last, after);
            }

            after = last;
        }
    }

    private async Task<long> LastPositionAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct, countStatements: false);
        await using var select = Command(connection, null, EventSql.SelectLastPosition);
        return (long)(await select.ExecuteScalarAsync(ct) ?? 0L);
    }

    /// <summary>Subscribes to the channel, retrying every 5 s while Redis is unreachable; the multiplexer restores it after reconnects.</summary>
    private async Task SubscribeAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(Channel, (_, message) =>
                {
                    if (!((string?)message ?? "").StartsWith(_instance, StringComparison.Ordinal))
                    {
                        _wake.Set();
                    }
                });
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogSubscribeFailed(ex.Message);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Publish(long position)
    {
        try
        {
            redis.GetSubscriber().Publish(Channel, $"{_instance} {position}", CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogPublishFailed(ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event pump could not read the catalog (streams fall back to polling): {Error}")]
    private partial void LogReadFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event pump could not subscribe to Redis (streams of other replicas' changes fall back to polling); retrying: {Error}")]
    private partial void LogSubscribeFailed(string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event pump could not announce a change on Redis: {Error}")]
    private partial void LogPublishFailed(string error);
}

/// <summary>The pump's read of what changed, on an uncounted connection (it runs in the background, not for a request).</summary>
internal static class EventPumpQueries
{
    public static async Task<(IReadOnlyList<(string DocumentId, string? Client)> Changes, long Last)> ReadChangesAsync(
        this CatalogDb db, long after, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct, countStatements: false);
        await using var select = Command(connection, null, EventSql.SelectChangesAfter);
        select.Parameters.AddWithValue("@after", after);
        select.Parameters.AddWithValue("@limit", limit);
        var changes = new List<(string, string?)>();
        var last = after;
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            last = reader.GetInt64(0);
            changes.Add((reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return (changes, last);
    }
}
