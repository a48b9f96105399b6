using System.Globalization;
using StackExchange.Redis;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// One redis-server, one remote document server on 127.0.0.1 and one IngestService whose Sources:AllowedHosts names
/// 127.0.0.1 (and nothing else), with short fetch timeouts, shared by the tests of the "url-sources" collection.
/// </summary>
public sealed class UrlSourceFixture : IAsyncLifetime
{
    public const long MaxUploadBytes = 2 * 1024 * 1024;

    public const int TotalTimeoutSeconds = 3;

    public RedisServer Redis { get; private set; } = null!;

    public ConnectionMultiplexer RedisClient { get; private set; } = null!;

    public RemoteDocumentServer Remote { get; private set; } = null!;

    public IngestHost Host { get; private set; } = null!;

    public HttpClient Client => Host.Client;

    /// <summary>The settings of the fixture's host; a test that needs another allow-list starts a host of its own with these.</summary>
    public static Dictionary<string, string?> Settings(params string[] allowedHosts)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Ingest:MaxUploadBytes"] = MaxUploadBytes.ToString(CultureInfo.InvariantCulture),
            ["Sources:TotalTimeoutSeconds"] = TotalTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            ["Sources:AttemptTimeoutSeconds"] = "2",
            ["Sources:ConnectTimeoutSeconds"] = "2",
            ["Sources:MaxRetries"] = "1",
            ["Sources:RetryDelayMilliseconds"] = "50",
            ["Sources:MaxRedirects"] = "3",
        };
        for (var i = 0; i < allowedHosts.Length; i++)
        {
            settings[$"Sources:AllowedHosts:{i}"] = allowedHosts[i];
        }

        return settings;
    }

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        RedisClient = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);
        Remote = await RemoteDocumentServer.StartAsync();
        Host = IngestHost.Create(Redis.ConnectionString, Settings("127.0.0.1")).Start();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Remote.DisposeAsync();
        await RedisClient.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

[CollectionDefinition("url-sources")]
public sealed class UrlSourceCollection : ICollectionFixture<UrlSourceFixture>;
