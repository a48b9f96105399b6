using StackExchange.Redis;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>One redis-server and one IngestService shared by the tests of the "ingest" collection.</summary>
public sealed class IngestFixture : IAsyncLifetime
{
    /// <summary>Small limit so the size tests are fast; every corpus file used is far below it.</summary>
    public const long MaxUploadBytes = 2 * 1024 * 1024;

    public RedisServer Redis { get; private set; } = null!;

    public IngestHost Host { get; private set; } = null!;

    public ConnectionMultiplexer RedisClient { get; private set; } = null!;

    public HttpClient Client => Host.Client;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        RedisClient = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);
        Host = IngestHost.Create(Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Ingest:MaxUploadBytes"] = MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Start();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await RedisClient.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

[CollectionDefinition("ingest")]
public sealed class IngestCollection : ICollectionFixture<IngestFixture>;
