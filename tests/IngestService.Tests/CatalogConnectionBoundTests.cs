using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using IngestService.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Suite.ServiceDefaults.Telemetry;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// The catalog's bounded pool under load (Req DB-6, TMO-2): 50 concurrent uploads over real sockets while clients poll
/// the status, with a connection bound small enough to be reached.
/// </summary>
public sealed class CatalogConnectionBoundTests : IAsyncLifetime
{
    private const int Bound = 4;
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(appendOnly: false);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    [Trait("Req", "TMO-2")]
    [Trait("Req", "DB-6")]
    public async Task Fifty_concurrent_uploads_with_status_polling_never_surface_database_is_locked_and_never_exceed_the_connection_bound()
    {
        await using var host = IngestHost.Create(
            _redis.ConnectionString,
            new Dictionary<string, string?>
            {
                ["Catalog:MaxConnections"] = Bound.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Admission:MinFreeDiskBytes"] = "0",
            },
            kestrel: true).Start();
        var catalog = host.Services.GetRequiredService<CatalogDb>().Database;
        using var gauge = new ConnectionGauge(host.Services);
        var catalogFile = Path.Combine(host.Root, "catalog.db");

        // Sampled independently of the gate: the catalog file handles the process holds (one per physical connection,
        // pooled ones included), and the gauge.
        var maxHandles = 0;
        var maxGauge = 0L;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                maxHandles = Math.Max(maxHandles, OpenHandles(catalogFile));
                maxGauge = Math.Max(maxGauge, gauge.Read() ?? 0);
                await Task.Delay(2);
            }
        });

        var ids = new ConcurrentBag<string>();
        var answers = new ConcurrentBag<(string What, HttpStatusCode Status, string Body)>();
        var uploads = Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await Api.UploadAsync(host.Client, Api.MinimalPdf, $"bound-{i}.pdf");
            var body = await response.Content.ReadAsStringAsync();
            answers.Add(("upload", response.StatusCode, body));
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                ids.Add((await Api.JsonAsync(response)).GetProperty("id").GetString()!);
            }
        }));
        var polls = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            for (var round = 0; round < 500 && !uploads.IsCompleted; round++)
            {
                var uri = ids.FirstOrDefault() is { } id && round % 2 == 0 ? $"/api/documents/{id}" : "/api/documents?limit=20";
                using var response = await host.Client.GetAsync(new Uri(uri, UriKind.Relative));
                answers.Add(("poll " + uri, response.StatusCode, await response.Content.ReadAsStringAsync()));
            }
        }));
        await Task.WhenAll(uploads, polls).WaitAsync(TimeSpan.FromMinutes(3));

        // Idle: every connection taken from the pool was given back.
        await Eventually.UntilAsync(() => catalog.OpenConnections == 0 && gauge.Read() == 0, TimeSpan.FromSeconds(10), "no catalog connection open when idle");
        await stop.CancelAsync();
        await sampler;

        Assert.Equal(50, answers.Count(a => a.What == "upload" && a.Status == HttpStatusCode.Accepted));
        Assert.Contains(answers, a => a.What.StartsWith("poll", StringComparison.Ordinal));
        Assert.DoesNotContain(answers, a => (int)a.Status >= 500);
        Assert.DoesNotContain(answers, a => a.Body.Contains("database is locked", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(host.Logs.All, l => l.Contains("database is locked", StringComparison.OrdinalIgnoreCase));

        // The bound was reached (the load contended for connections) and never passed.
        Assert.Equal(Bound, catalog.PeakOpenConnections);
        Assert.InRange(maxGauge, 1, Bound);
        Assert.InRange(maxHandles, 1, Bound);
    }

    /// <summary>Descriptors of this process open on the file itself (not its -wal or -shm).</summary>
    private static int OpenHandles(string file)
    {
        var count = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget == file)
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }

        return count;
    }

    /// <summary>Reads the host's <c>suite.db.connections{db="catalog"}</c> gauge.</summary>
    private sealed class ConnectionGauge : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long? _last;

        public ConnectionGauge(IServiceProvider services)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument is { Name: "suite.db.connections", Meter.Name: DatabaseMetrics.MeterName } && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag is { Key: "db", Value: CatalogDb.DatabaseName })
                    {
                        _last = value;
                    }
                }
            });
            _listener.Start();
        }

        public long? Read()
        {
            lock (_listener)
            {
                _last = null;
                _listener.RecordObservableInstruments();
                return _last;
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
